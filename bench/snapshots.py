"""What snapshots over training (and the TensorBoard log) cost: the same training run with and without them.

A default-shaped job (V = 5,000, L = 400, batch 32, windows of G = 20 Zipfian records of ~17 ids, as the bundled
corpus; fp32, 2 threads) trained for ``--steps`` steps, three ways interleaved round by round: plain, with
``train.snapshots`` (12 log-spaced, as the default config), and with snapshots and ``train.tensorboard``. Prints the
median wall time of each, its difference to the plain run, and the share of the run's wall time spent inside
the observers (the snapshot writes and the log), which is what they add: on a busy machine the wall times vary by
more than the overhead, the share does not. The default run's jobs have 5,084 steps; a shorter run spreads the same
12 snapshots over fewer steps, so the overhead printed is an upper bound of the default job's.

    .venv/bin/python bench/snapshots.py [--steps 800] [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))


def zipf_docs(n_docs: int, vocab: int, per_doc: float, seed: int = 0):
    from bows.encode import Docs

    rng = np.random.default_rng(seed)
    p = 1.0 / (np.arange(vocab) + 10.0)
    p /= p.sum()
    lens = rng.poisson(per_doc, size=n_docs)
    docs = [np.unique(rng.choice(vocab, size=k, p=p)) for k in lens]
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=indptr[1:])
    return Docs(indptr, np.concatenate(docs).astype(np.uint16), vocab)


class Timed:
    """The run's observers, with the wall time spent in them (the whole cost they add to a step)."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0

        return timed if callable(method) else method


def one_run(kind: str, data, args, tmp: Path) -> float:
    import torch
    from bows.batches import TrainData
    from bows.config import section
    from bows.grid import ModelSpec
    from bows.observers import Observers
    from bows.train import Trainer
    from bows.train_settings import TrainSettings

    win, tr, ho = data
    cfg = section(
        "train",
        {
            "snapshots": {"count": 12 if kind != "plain" else 0, "spacing": "log"},
            "tensorboard": kind == "snapshots+tensorboard",
        },
    )
    folder = Path(tempfile.mkdtemp(dir=tmp))
    observers = Timed(Observers.for_run(cfg, folder / "ckpt", folder / "model", 1.0))
    settings = TrainSettings.default(
        epochs=1, batch_size=32, threads=args.threads, max_steps=args.steps, progress=False, eval_batches=1
    )
    torch.set_num_threads(args.threads)
    data = TrainData(win, 5000, tr, ho)
    trainer = Trainer(data, ModelSpec("relu", 400, 1.0, 1), settings, folder / "ckpt", observers=observers)
    t0 = time.perf_counter()
    trainer.run()
    observers.publish(folder / "model")
    return time.perf_counter() - t0, observers.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    from bows.windows import Windows

    docs = zipf_docs(args.steps * 32 + 2000, 5000, per_doc=17.0)
    win = Windows(docs, group_size=20)
    idx = np.arange(len(win))
    data = (win, idx[: args.steps * 32], idx[-512:])
    kinds = ("plain", "snapshots", "snapshots+tensorboard")
    times: dict[str, list[float]] = {k: [] for k in kinds}
    inside: dict[str, list[float]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="bows-bench-snapshots-") as tmp:
        one_run("plain", data, argparse.Namespace(steps=20, threads=args.threads), Path(tmp))  # warm-up (numba)
        for _ in range(args.rounds):
            for kind in kinds:
                total, observed = one_run(kind, data, args, Path(tmp))
                times[kind].append(total)
                inside[kind].append(observed / total)
    base = float(np.median(times["plain"]))
    print(f"{args.steps} steps of batch 32, V = 5000, L = 400, {args.threads} threads; load {os.getloadavg()[0]:.1f}")
    for kind in kinds:
        med = float(np.median(times[kind]))
        share = 100 * float(np.median(inside[kind]))
        print(
            f"  {kind:24s} {med:7.2f} s (median of {args.rounds})   vs plain {100 * (med / base - 1):+5.1f} %"
            f"   time inside the observers {share:.2f} % of the run"
        )


if __name__ == "__main__":
    main()
