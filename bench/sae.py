"""SAE training on BOWS activations: this package's trainer against SAELens', side by side, on one activations file.

    .venv/bin/python bench/sae.py ACTIVATIONS.npz [--width 256] [--k 8] [--epochs 10] [--threads 1] [--out b.json]

``ACTIVATIONS.npz`` is an ``activations.npz`` of the sae stage (results/{corpus}/sae/.../activations.npz). For the
TopK SAE of the given width and k, and the ReLU + L1 SAE at λ = 0.1, it trains with the package's trainer and, where
the ``[sae]`` extra is installed, with SAELens' SAE and trainer (same data, learning rate, batch size and number of
passes), and prints wall time, held-out explained variance, L0 and MCC against the word directions of each, and the
time ratio. Run both in one process so the machine's load is shared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bows.sae import scores as sc  # noqa: E402
from bows.sae.files import load_activations  # noqa: E402
from bows.sae.settings import SaeSpec  # noqa: E402
from bows.sae.training import activation_scale, evaluate, train_sae  # noqa: E402


def _row(name: str, sae, seconds: float, truth: np.ndarray, h_ho: torch.Tensor) -> dict:
    ev = evaluate(sae, h_ho)
    mcc = sc.mcc(sc.abs_cos(truth, sae.W_dec.detach().numpy()))["mcc"]
    return {
        "trainer": name,
        "sae": sae.spec.name,
        "seconds": round(seconds, 2),
        "explained_variance": round(ev["explained_variance"], 4),
        "l0": round(ev["l0"], 2),
        "mcc": round(mcc, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("activations")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    act = load_activations(args.activations)
    scale = activation_scale(act["h_train"])
    h_tr = torch.from_numpy((act["h_train"] * scale).astype(np.float32))
    h_ho = torch.from_numpy((act["h_heldout"] * scale).astype(np.float32))
    truth = act["truth"].astype(np.float64)
    cfg = {"lr": args.lr, "batch_size": args.batch_size, "epochs": args.epochs}
    have_saelens = importlib.util.find_spec("sae_lens") is not None
    rows = []
    for spec in (SaeSpec("topk", args.width, args.k), SaeSpec("relu", args.width, 0.1)):
        t0 = time.perf_counter()
        ours, _ = train_sae(spec, h_tr, h_ho, cfg, seed=0)
        rows.append(_row("bows", ours, time.perf_counter() - t0, truth, h_ho))
        if have_saelens:
            from bows.sae.saelens import to_bows, train

            t0 = time.perf_counter()
            theirs = to_bows(spec, train(spec, h_tr, args.lr, args.batch_size, args.epochs, seed=0))
            rows.append(_row("saelens", theirs, time.perf_counter() - t0, truth, h_ho))
            rows[-1]["time_vs_bows"] = round(rows[-1]["seconds"] / rows[-2]["seconds"], 2)
    for r in rows:
        print(json.dumps(r))
    if not have_saelens:
        print("sae-lens is not installed: only this package's trainer was timed (pip install -e '.[sae]')")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
