"""Speed of the metrics stage on one paper-sized model: L=1000, V=10000, 10k held-out windows, 2 threads.

    .venv/bin/python bench/metrics.py [--latent 1000] [--vocab 10000] [--windows 10000] [--threads 2] [--umap]

Builds a synthetic vocabulary (the paper's word lists + filler words), Zipf-distributed documents and a random
model in a temporary folder, then runs the per-model metrics (peers, groups, nulls, clusters) and the mechanism
stage (decoder fit, one held-out pass for every R², one-hot R², towers) through the same entry points as the
workflow, and prints the wall time of each part. Target: all of it ≤ 120 s on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latent", type=int, default=1000)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--windows", type=int, default=10000)
    ap.add_argument("--group", type=int, default=20)
    ap.add_argument("--permutations", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--umap", action="store_true", help="also time the UMAP layout (6000 Other words)")
    args = ap.parse_args()

    from bows.jobs import limit_threads

    limit_threads(args.threads)
    import numpy as np
    import torch
    from bows.config import load_config, paper_forced_tokens, word_lists
    from bows.encode import Docs, save_docs
    from bows.grid import ModelSpec
    from bows.io import save_npy
    from bows.model import save_weights
    from bows.stages.mechanism import STAGE as MECHANISM_STAGE
    from bows.stages.mechanism import run_mechanism
    from bows.stages.model import STAGE as MODEL_STAGE
    from bows.stages.model import run_model
    from bows.stages.umap import run_umap
    from bows.vocab import write_vocab

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    V, L, G = args.vocab, args.latent, args.group
    forced = paper_forced_tokens()
    wl = word_lists()
    extra = (
        [w for c in wl["semantic_categories"].values() for w in c]
        + [w for ws in wl["seasonal_words"].values() for w in ws]
        + wl["word_groups"]["Roman numerals"]
        + [w for t in wl["mechanism"]["targets"].values() for ws in t.values() for w in ws]
        + list(wl["mechanism"]["targets"])
    )
    words = list(dict.fromkeys(forced + [w for w in extra if w not in forced]))[:V]
    words += [f"filler{k}" for k in range(V - len(words))]
    counts = np.sort(rng.zipf(1.3, V))[::-1]

    cfg = load_config(
        ROOT / "config.yaml",
        overrides={
            "vocab": {"size": V},
            "windows": {"group_size": G},
            "train": {"grid": [{"latent": [L], "weight_decay": [1.0], "seed": [1]}]},
            "analysis": {
                "models": {
                    "months": {"latent": L, "weight_decay": 1.0, "seed": 1},
                    "mechanism": {"latent": L, "weight_decay": 1.0, "seed": 1},
                    "umap": [{"latent": L, "weight_decay": 1.0, "seed": 1}],
                },
                "null_permutations": args.permutations,
                "heldout_windows": args.windows,
                "decoder_fit_windows": args.windows,
            },
            "sae": {"enabled": False},
        },
    )
    an = cfg["analysis"]
    p = 1.0 / np.arange(1, V + 1) ** 0.9
    p /= p.sum()

    def docs(n: int) -> Docs:
        lens = rng.integers(5, 40, n)
        ids = [np.unique(rng.choice(V, k, p=p)) for k in lens]
        indptr = np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64)
        return Docs(indptr, np.concatenate(ids).astype(np.uint16), V)

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        t0 = time.perf_counter()
        write_vocab(t / "vocab.tsv", words, counts, len(forced))
        save_docs(t / "validation", docs(args.windows + G - 1))
        save_docs(t / "test", docs(G))
        save_docs(t / "train", docs(args.windows + G - 1))
        save_npy(t / "train_windows.npy", np.arange(args.windows, dtype=np.int64))
        W = torch.randn(L, V) * 0.05
        b = -0.05 * torch.rand(V)
        save_weights(t / "model.safetensors", W, b)
        print(f"setup (synthetic files) {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        spec = ModelSpec("relu", L, 1.0, 1)
        run_model(
            str(t / "model.safetensors"),
            str(t / "vocab.tsv"),
            None,
            {n: str(t / f"m_{n}.parquet") for n in MODEL_STAGE.tables},
            spec,
            cfg,
        )
        t_model = time.perf_counter() - t0
        print(f"per-model metrics (peers, groups, {args.permutations} permutations, clusters): {t_model:.1f} s")
        t0 = time.perf_counter()
        tm = run_mechanism(
            str(t / "model.safetensors"),
            str(t / "vocab.tsv"),
            [str(t / "validation"), str(t / "test")],
            str(t / "train"),
            str(t / "train_windows.npy"),
            {n: str(t / f"x_{n}.parquet") for n in MECHANISM_STAGE.tables},
            spec,
            cfg,
        )
        t_mech = time.perf_counter() - t0
        print("mechanism: " + ", ".join(f"{k} {v:.1f} s" for k, v in tm.items()))
        total = t_model + t_mech
        if args.umap:
            t0 = time.perf_counter()
            run_umap(str(t / "model.safetensors"), str(t / "vocab.tsv"), str(t / "umap.parquet"), cfg)
            t_umap = time.perf_counter() - t0
            print(f"umap ({an['umap_other_words']} other words): {t_umap:.1f} s")
            total += t_umap
        print(
            f"TOTAL L={L} V={V} windows={args.windows} threads={args.threads}: {total:.1f} s "
            f"(target <= 120 s) {'OK' if total <= 120 else 'SLOW'}"
        )


if __name__ == "__main__":
    main()
