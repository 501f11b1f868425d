"""The synthetic branch's data and training jobs: generate a structure's samples, train its models.

Kept apart from the metrics, claims and figures (bows.synthetic.pipeline) so that the data and training jobs run,
and their code hash covers, only the generators, the trainer and the file formats. ``provenance_config`` is the
record of the section that every synthetic output's sidecar carries.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import io
from . import data as sdata

log = logging.getLogger("bows.synthetic")


def grid(structure: str, syn: Mapping[str, Any]):
    """Every model of one structure: activations × weight decays × latent sizes × seeds (config order)."""
    from .train import SynthModel

    return [
        SynthModel(structure, a, float(wd), int(m), int(s))
        for a, wd, m, s in itertools.product(syn["activations"], syn["weight_decay"], syn["latent"], syn["seeds"])
    ]


def provenance_config(syn: Mapping[str, Any], structure: str | None = None) -> dict[str, Any]:
    """The provenance record of a synthetic output: the resolved section (and the structure)."""
    return {"synthetic": dict(syn), **({"structure": structure} if structure else {})}


# --------------------------------------------------------------------------------------------------------- data


def make_data(structure: str, syn: Mapping[str, Any], out_npz: str | Path, out_json: str | Path) -> dict[str, Any]:
    """Generate the structure's dataset, split it, and write ``data.npz`` (+ sidecar) and ``data.json``."""
    spec = sdata.DataSpec.from_config(dict(syn))
    train_idx, val_idx = sdata.split_indices(spec.samples, int(syn["train_samples"]), spec.data_seed)
    t0 = time.perf_counter()
    x = sdata.generate(structure, spec)
    cov = sdata.covariance(x)
    with io.atomic_path(out_npz) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh, x=x, train=train_idx, val=val_idx, covariance=cov, anchors=sdata.anchors(structure, spec.features)
            )
    stats = sdata.data_stats(x)
    stats.update(
        variant=syn["variant"],
        structure=structure,
        spec=spec.as_dict(),
        train_samples=len(train_idx),
        val_samples=len(val_idx),
        iid_p=sdata.iid_probability(spec) if structure == "iid" else None,
        seconds=time.perf_counter() - t0,
    )
    log.info("%s: %d × %d samples, mean activation %.3f", structure, *x.shape, stats["mean_activation"])
    io.write_sidecar(out_npz, provenance_config(syn, structure))
    io.write_json(out_json, {**stats, "provenance": io.provenance(provenance_config(syn, structure))})
    return stats


def load_data(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a ``data.npz`` (x, train, val, covariance, anchors)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


# ----------------------------------------------------------------------------------------------------- training


def train_structure(
    structure: str,
    syn: Mapping[str, Any],
    data_npz: str | Path,
    out_npz: str | Path,
    out_json: str | Path,
    threads: int = 1,
) -> dict[str, Any]:
    """Train every model of ``structure`` (batched unless ``synthetic.batched`` is false) and save them.

    ``models.npz``: ``W`` float32 [K, F, F] (rows ≥ m are zero; model k is ``W[k, :latent[k]]``), ``b`` [K, F],
    ``loss`` [K, epochs], ``grad_norm`` [K, epochs], ``train_mse``/``val_mse`` [K] (final model, full splits),
    and the keys ``activation`` (str), ``weight_decay``, ``latent``, ``seed``, ``model_seed`` (uint64) per model.
    """
    import torch

    from .train import SynthTrainSettings, reconstruction_mse, train_batched, train_sequential

    torch.set_num_threads(max(1, int(threads)))
    settings = SynthTrainSettings.from_config(dict(syn))
    models = grid(structure, syn)
    d = load_data(data_npz)
    x_train, x_val = d["x"][d["train"]], d["x"][d["val"]]
    batched = bool(syn["batched"])
    t0 = time.perf_counter()
    out = (train_batched if batched else train_sequential)(x_train, models, settings)
    seconds = time.perf_counter() - t0
    W = [out["W"][i, : m.latent] for i, m in enumerate(models)]
    acts = [m.activation for m in models]
    out["train_mse"] = np.array([reconstruction_mse(x_train, w, b, a)[0] for w, b, a in zip(W, out["b"], acts)])
    out["val_mse"] = np.array([reconstruction_mse(x_val, w, b, a)[0] for w, b, a in zip(W, out["b"], acts)])
    steps = settings.epochs * -(-len(x_train) // settings.batch_size)
    mode = "batched" if batched else "sequential"
    log.info("%s: %d models × %d steps in %.1f s (%s)", structure, len(models), steps, seconds, mode)
    _save_models(out_npz, out, models)
    io.write_sidecar(out_npz, provenance_config(syn, structure), inputs={"data": str(data_npz)})
    record = {
        "variant": syn["variant"],
        "structure": structure,
        "settings": settings.as_dict(),
        "batched": batched,
        "threads": int(threads),
        "models": len(models),
        "steps_per_model": steps,
        "seconds": seconds,
        "ms_per_step": 1e3 * seconds / steps,
        "per_model": [_model_record(m, out, i) for i, m in enumerate(models)],
        "provenance": io.provenance(provenance_config(syn, structure), inputs={"data": str(data_npz)}),
    }
    io.write_json(out_json, record)
    return record


def _save_models(path: str | Path, out: Mapping[str, np.ndarray], models: Sequence[Any]) -> None:
    """``models.npz`` of :func:`train_structure`: the trained arrays and each model's keys."""
    arrays = {k: out[k] for k in ("W", "b", "loss", "grad_norm", "train_mse", "val_mse")}
    keys = {
        "activation": np.array([m.activation for m in models]),
        "weight_decay": np.array([m.weight_decay for m in models]),
        "latent": np.array([m.latent for m in models]),
        "seed": np.array([m.seed for m in models]),
        "model_seed": np.array([m.model_seed for m in models], dtype=np.uint64),
    }
    with io.atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays, **keys)


def _model_record(m: Any, out: Mapping[str, np.ndarray], i: int) -> dict[str, Any]:
    """Model ``i``'s keys, loss history and final errors, as ``models.json`` lists them."""
    return {
        "activation": m.activation,
        "weight_decay": m.weight_decay,
        "latent": m.latent,
        "seed": m.seed,
        "model_seed": m.model_seed,
        "loss": out["loss"][i].tolist(),
        "train_mse": float(out["train_mse"][i]),
        "val_mse": float(out["val_mse"][i]),
    }
