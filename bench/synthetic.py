"""Batched vs one-at-a-time training of the synthetic models (one structure, the default grid).

    .venv/bin/python bench/synthetic.py [--epochs 20] [--threads 1] [--structure circular] [--out bench.json]

Times ``epochs`` epochs of every model of the default config's grid three ways: all models in one batched
computation (what the workflow runs), the same code one model at a time, and one model at a time with stock PyTorch
parts (autograd, torch.optim.AdamW, clip_grad_norm_, CosineAnnealingLR). It also reports the floor: the wall time of
the batched run's matrix products alone (five bmm per step), to show how far the step is from its arithmetic.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

import bows.config as bcfg  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from bows.synthetic import data as sd  # noqa: E402
from bows.synthetic.runs import grid  # noqa: E402
from bows.synthetic.train import SynthTrainSettings, train_batched, train_reference, train_sequential  # noqa: E402


def _time(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def bmm_floor(k: int, f: int, n: int, bs: int, epochs: int) -> float:
    """Wall time of the five batched matrix products per step alone, for the same shapes and step count."""
    W = torch.randn(k, f, f)
    x = torch.rand(k, bs, f)
    steps = epochs * -(-n // bs)
    t0 = time.perf_counter()
    for _ in range(steps):
        h = torch.bmm(x, W.transpose(1, 2))
        z = torch.bmm(h, W)
        torch.bmm(h.transpose(1, 2), z)
        torch.bmm(torch.bmm(z, W.transpose(1, 2)).transpose(1, 2), x)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--structure", default="circular")
    ap.add_argument("--skip-reference", action="store_true", help="skip the slow stock-PyTorch loop")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    syn = bcfg.load_config(ROOT / "config.yaml", checked=False)["synthetic"]
    spec = sd.DataSpec.from_config(syn)
    x = sd.generate(args.structure, spec)
    tr, _ = sd.split_indices(spec.samples, syn["train_samples"], spec.data_seed)
    xt = x[tr]
    models = grid(args.structure, syn)
    settings = SynthTrainSettings.from_config({**syn, "epochs": args.epochs})
    batched, t_b = _time(train_batched, xt, models, settings)
    seq, t_s = _time(train_sequential, xt, models, settings)
    res = {
        "structure": args.structure,
        "models": len(models),
        "epochs": args.epochs,
        "threads": args.threads,
        "samples": len(xt),
        "batch_size": settings.batch_size,
        "batched_s": t_b,
        "sequential_s": t_s,
        "speedup_vs_sequential": t_s / t_b,
        "max_abs_diff_batched_vs_sequential": float(np.abs(batched["W"] - seq["W"]).max()),
        "bmm_floor_s": bmm_floor(len(models), spec.features, len(xt), settings.batch_size, args.epochs),
        "full_run_estimate_s": t_b * syn["epochs"] / args.epochs,
    }
    res["batched_over_floor"] = t_b / res["bmm_floor_s"]
    if not args.skip_reference:
        t0 = time.perf_counter()
        diffs = [
            float(np.abs(train_reference(xt, m, settings)["W"][0] - batched["W"][i]).max())
            for i, m in enumerate(models)
        ]
        res["reference_s"] = time.perf_counter() - t0
        res["speedup_vs_reference"] = res["reference_s"] / t_b
        res["max_abs_diff_batched_vs_reference"] = max(diffs)
    text = json.dumps(res, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
