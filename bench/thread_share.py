"""Two cores, two ways: one training job on two threads against two one-thread jobs at once, on the real windows.

    .venv/bin/python bench/thread_share.py [--docs results/wiki-bundled/V5000/docs/train]
        [--windows results/wiki-bundled/V5000_G20_S1/train_windows.npy] [--latent 400] [--steps 1500] [--rounds 2]

Each job is a fresh process that trains ``steps`` steps of the real trainer (bows.train.Trainer, batch 32, as
config.yaml) with torch limited to its threads (bows.jobs.limit_threads, as a Snakemake job). Rounds alternate the two
ways so a shared machine's load hits both alike. Prints steps per second of the machine each way and their ratio:
above 1, two one-thread jobs (the rules' threads in config.yaml) do more than one two-thread job.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def job(docs: str, windows: str, latent: int, steps: int, threads: int) -> None:
    """One training job (run in its own process): ``steps`` steps at ``threads`` threads."""
    sys.path.insert(0, str(ROOT / "workflow"))
    from bows.jobs import limit_threads

    limit_threads(threads)
    import numpy as np
    from bows.batches import TrainData
    from bows.encode import load_docs
    from bows.grid import ModelSpec
    from bows.train import Trainer
    from bows.train_settings import TrainSettings
    from bows.windows import Windows

    win = Windows(load_docs(docs, mmap=True), 20, 1)
    idx = np.asarray(np.load(windows, mmap_mode="r"))
    data = TrainData(win, win.vocab_size, idx, np.zeros(0, np.int64))
    settings = TrainSettings.default(epochs=4, batch_size=32, max_steps=steps, threads=threads, progress=False)
    Trainer(data, ModelSpec("relu", latent, 1.0, 1), settings).train_epoch()


def timed(args: argparse.Namespace, threads: int, n_jobs: int) -> float:
    """Wall seconds of ``n_jobs`` concurrent job processes at ``threads`` threads each."""
    cmd = [sys.executable, __file__, "--job", str(threads), "--docs", args.docs, "--windows", args.windows]
    cmd += ["--latent", str(args.latent), "--steps", str(args.steps)]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd) for _ in range(n_jobs)]
    if any(p.wait() for p in procs):
        raise SystemExit("a training job failed")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default="results/wiki-bundled/V5000/docs/train")
    ap.add_argument("--windows", default="results/wiki-bundled/V5000_G20_S1/train_windows.npy")
    ap.add_argument("--latent", type=int, default=400)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--job", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        return job(args.docs, args.windows, args.latent, args.steps, args.job)
    one, two = [], []
    for _ in range(args.rounds):
        one.append(args.steps / timed(args, threads=2, n_jobs=1))
        two.append(2 * args.steps / timed(args, threads=1, n_jobs=2))
    a, b = max(one), max(two)
    load = os.getloadavg()[0]
    print(f"L = {args.latent}, batch 32, {args.steps} steps per job, best of {args.rounds}; load {load:.2f}")
    print(f"one job on 2 threads:     {a:7.1f} steps/s")
    print(f"two jobs on 1 thread each: {b:7.1f} steps/s (both together)")
    print(f"ratio two/one: {b / a:.2f}")


if __name__ == "__main__":
    main()
