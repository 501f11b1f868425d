"""The UMAP layout of a model's word vectors, in a fresh process as a Snakemake job runs it: on the exact cosine
neighbour graph (bows.metrics.clusters.umap_layout) against UMAP's own neighbour search (NN-descent above 4,096 rows).

    .venv/bin/python bench/umap_layout.py [--model PATH]   (default: the L = 400, wd 1 model of the default run)

Each way runs in its own Python process (numba compiles in every process, as in every layout job), after the same
imports. Prints the wall time of each fit, their ratio, and how many of the exact 15 nearest neighbours UMAP's own
search finds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "results/wiki-bundled/models/V5000_G20_S1/relu/L400_wd1.0_seed1/model.safetensors"


def fit(model: str, way: str) -> dict:
    """One layout of the model's word vectors (run in its own process); its time and neighbour graph."""
    sys.path.insert(0, str(ROOT / "workflow"))
    import numpy as np
    import umap
    from bows.metrics.clusters import cosine_neighbours, umap_layout
    from bows.model_files import load_weights

    W, _ = load_weights(model)
    E = np.asarray(W, dtype=np.float32).T
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    if way == "exact":
        umap_layout(E, seed=42)
        knn = cosine_neighbours(E, 15)[0]
    else:
        reducer = umap.UMAP(n_neighbors=15, min_dist=0.05, metric="cosine", random_state=42)
        reducer.fit_transform(E)
        knn = reducer._knn_indices
    return {"seconds": time.perf_counter() - t0, "knn": np.asarray(knn).tolist()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=MODEL)
    ap.add_argument("--way", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.way:
        print(json.dumps(fit(args.model, args.way)))
        return
    runs = {}
    for way in ("umap-own", "exact"):
        out = subprocess.run([sys.executable, __file__, "--model", args.model, "--way", way], capture_output=True,
                             text=True, check=True)  # fmt: skip
        runs[way] = json.loads(out.stdout.strip().splitlines()[-1])
    import numpy as np

    own, exact = (np.array(runs[w]["knn"]) for w in ("umap-own", "exact"))
    found = np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(own, exact)])
    print(f"{len(exact)} words of {args.model}")
    print(f"UMAP's own neighbour search: {runs['umap-own']['seconds']:6.1f} s")
    print(f"exact cosine neighbours:     {runs['exact']['seconds']:6.1f} s")
    print(f"ratio own/exact: {runs['umap-own']['seconds'] / runs['exact']['seconds']:.2f}")
    print(f"share of the exact 15 neighbours that UMAP's own search finds: {found:.3f}")


if __name__ == "__main__":
    main()
