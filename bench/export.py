"""Size and time of `snakemake export` (bows.sharing.export) for a config's grid, without training it.

    .venv/bin/python bench/export.py [--configfile presets/smoke.yaml ...] [--keep DIR] [--json F]

The grid of the merged config (config.yaml, then each ``--configfile``) is laid out as training leaves it: every
model's ``model.safetensors`` (random float32 weights of its shape L × V) and a ``run.json``, plus the vocabulary,
the metric tables and criteria (small stand-ins: in a real run they are a few MB at most, next to the weights).
Then it times what the two export rules run, ``export_model`` per model (read and check the weights, copy them,
write config.json) and ``export_grid`` (copies, config.yaml, the model card, the RO-Crate with every file's sha256),
and prints the export's size, both times, the checksums' share and the load average. The paper grid's figure is
projected from the measured per-byte costs (its weights alone are Σ L·V·4 bytes); it leaves out the workflow's
cost per job (a Python start and the imports, about a second each on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))
import pandas as pd  # noqa: E402
from bows import config as bcfg  # noqa: E402
from bows.grid import model_grid  # noqa: E402
from bows.io import file_sha256, write_json, write_table  # noqa: E402
from bows.model import save_model  # noqa: E402
from bows.sharing import export, layout  # noqa: E402
from bows.vocab import write_vocab  # noqa: E402


def lay_out_run(tmp: Path, cfg: dict) -> dict:
    """A trained grid's files as the rules leave them; returns the paths export_grid reads."""
    V = int(cfg["vocab"]["size"])
    rng = np.random.default_rng(0)
    for spec in model_grid(cfg):
        folder = tmp / "models" / spec.tag
        W = rng.standard_normal((spec.latent, V), dtype=np.float32)
        save_model(folder / "model.safetensors", W, np.zeros(V, np.float32), {"variant": spec.variant})
        model = {"variant": spec.variant, "latent": spec.latent, "weight_decay": spec.weight_decay}
        model |= {"seed": spec.seed, "vocab_size": V, **{k: cfg["windows"][k] for k in ("group_size", "stride")}}
        model["encoding"] = cfg["windows"]["encoding"]
        run = {"model": model, "train": {k: cfg["train"][k] for k in ("epochs", "batch_size", "lr", "latent_relu")}}
        run |= {"final_heldout_loss": 0.1, "exposure": {"decay_exposure": 1.0, "decay_exposure_paper": 8.8}}
        write_json(folder / "run.json", run)
    write_vocab(tmp / "vocab.tsv", [f"w{i}" for i in range(V)], list(range(V, 0, -1)), 0)
    rows = len(model_grid(cfg)) * 200
    table = pd.DataFrame({"model": ["m"] * rows, "metric": ["x"] * rows, "value": rng.standard_normal(rows)})
    tables = {name: str(write_table(table, tmp / "metrics" / name)[0]) for name in layout.TABLES}
    write_json(tmp / "criteria.json", {"criteria": [{"id": 1, "name": "c", "status": "pass", "value": 1}]})
    write_json(tmp / "windows.json", {"train_windows": 1})
    return {"tables": tables}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--configfile", nargs="*", default=[])
    ap.add_argument("--keep", type=Path, default=None, help="write the export here and keep it")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    cfg = bcfg.load_config(ROOT / "config.yaml", *a.configfile)
    specs = model_grid(cfg)
    tmp = Path(tempfile.mkdtemp(prefix="bows-export-bench-"))
    try:
        paths = lay_out_run(tmp, cfg)
        root = a.keep or tmp / "export"
        t0 = time.perf_counter()
        for spec in specs:
            src, out = tmp / "models" / spec.tag, layout.model_dir(root, spec)
            export.export_model(
                src / "model.safetensors",
                src / "run.json",
                out / layout.WEIGHTS,
                out / layout.MODEL_CONFIG,
                out / layout.RUN,
                spec,
                cfg["windows"],
            )
        t1 = time.perf_counter()
        export.export_grid(
            root,
            specs,
            tmp / "vocab.tsv",
            paths["tables"],
            tmp / "criteria.json",
            export.workflow_files(ROOT),
            cfg,
            {"windows.json": tmp / "windows.json"},
        )
        t2 = time.perf_counter()
        files = [p for p in root.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        t3 = time.perf_counter()
        for p in files:  # what the RO-Crate's checksums cost, alone
            file_sha256(p)
        hash_s = time.perf_counter() - t3
        weights = sum((layout.model_dir(root, s) / layout.WEIGHTS).stat().st_size for s in specs)
        V = int(cfg["vocab"]["size"])
        paper = bcfg.load_config(ROOT / "config.yaml", ROOT / "presets/paper.yaml")
        paper_bytes = sum(4 * s.latent * int(paper["vocab"]["size"]) for s in model_grid(paper))
        # the paper grid: the per-byte cost of export_model and of the checksums, plus export_grid's fixed part
        per_byte = (t1 - t0) / weights + hash_s / size
        projected = paper_bytes * per_byte + max(0.0, (t2 - t1) - hash_s)
        result = {
            "models": len(specs),
            "V": V,
            "export_bytes": size,
            "weights_bytes": weights,
            "export_model_s": round(t1 - t0, 3),
            "export_grid_s": round(t2 - t1, 3),
            "checksums_s": round(hash_s, 3),
            "paper_weights_bytes": paper_bytes,
            "paper_projected_s": round(projected, 1),
            "load": os.getloadavg()[0],
        }
        print(
            f"{len(specs)} models at V = {V:,}: export {size / 1e6:.1f} MB ({weights / 1e6:.1f} MB weights); "
            f"export_model {t1 - t0:.2f} s in all, export_grid {t2 - t1:.2f} s (of which checksums {hash_s:.2f} s); "
            f"paper grid: {paper_bytes / 1e9:.2f} GB of weights, projected {projected:.0f} s of export work; "
            f"load {os.getloadavg()[0]:.1f}"
        )
        if a.json:
            a.json.write_text(json.dumps(result, indent=1) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
