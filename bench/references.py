"""Time and memory of the references stage on a run's own data (the default run's language model: SmolLM2-135M).

    .venv/bin/python bench/references.py --run DIR [--reference smollm2] [--threads 2] [--json F]

``DIR`` is a work dir where the vocab stage has run (``snakemake vocab`` there: results/{corpus}/corpus and
results/{corpus}/V{V}/docs). Runs the references_lm (or references_vectors) stage's library call in this process
with the config of ``config.yaml`` (plus ``--configfile`` files), as the rule would, and prints the load time, the
forward-pass time, the tokens and passages, the wall time and the peak resident memory of the process, the load
average, and the months' ring adjacency at every layer (first two PCs of the unit vectors). Budget of the default
run: ≤ 2 min and ≤ 2 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="work dir of a run whose vocab stage is done")
    ap.add_argument("--reference", default="smollm2")
    ap.add_argument("--configfile", nargs="*", default=[])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)

    import numpy as np
    from bows.config import load_config
    from bows.metrics import geometry as geo
    from bows.references.sources import LM_SOURCES
    from bows.references.store import load_representation

    cfg = load_config(ROOT / "config.yaml", *a.configfile)
    run = Path(a.run)
    res = run / "results" / cfg["corpus"]["name"]
    voc = res / f"V{cfg['vocab']['size']}"
    out_dir = Path(a.run) / "bench-references" / a.reference
    out = {"representations": str(out_dir / "representations.npz"), "words": str(out_dir / "words.parquet")}
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    if a.reference in LM_SOURCES:
        import torch

        torch.set_num_threads(a.threads)
        from bows.stages.references.lm import run_lm

        run_lm(
            a.reference,
            str(voc / "vocab.tsv"),
            str(res / "corpus" / "train.parquet"),
            str(voc / "docs" / "train"),
            out,
            cfg["references"],
            cfg["analysis"]["word_groups"],
            cfg["vocab"]["lowercase"],
        )
    else:
        from bows.stages.references.vectors import run_vectors

        run_vectors(a.reference, str(voc / "vocab.tsv"), out, cfg["references"], cfg["analysis"]["word_groups"])
    wall = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    side = json.loads(Path(out["representations"] + ".prov.json").read_text())
    rep = load_representation(out["representations"])
    months = [
        rep.words.index(m)
        for m in ("January February March April May June July August September October November December").split()
    ]
    rings = {}
    for k, layer in enumerate(rep.layers):
        E = rep.layer(k)[months]
        if np.isfinite(E).all():
            U = E / np.linalg.norm(E, axis=1, keepdims=True)
            rings[layer] = geo.adjacent_pairs(geo.ring_angles(geo.pca(U, 2).scores))
    result = {
        "reference": a.reference,
        "wall_s": round(wall, 1),
        "peak_rss_gb": round(peak_gb, 2),
        "threads": a.threads,
        "load_average": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "stats": side.get("reference", {}),
        "months_ring_adjacent_by_layer": rings,
    }
    print(json.dumps(result, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
