"""Rule ``sae_train``: every SAE of one architecture (all widths × sparsities) on one model's activations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import io
from ...devices import select_device
from ...stage import Job, Section, Stage
from ..files import load_activations, provenance_params
from ..settings import sweep

__all__ = ["STAGE", "run", "train_sweep"]

#: every key of the ``sae`` section but those of the claims and the job's resources (the device stays: it is where
#: the SAEs train)
STAGE = Stage(
    __name__, files=("saes", "history"), sections=(Section("sae", without=("claims", "threads", "gpu_model")),)
)


def run(job: Job) -> None:
    """Rule ``sae_train``: the SAEs of the job's ``arch`` wildcard on the activations of its model."""
    sae = job.config["sae"]
    train_sweep(
        architecture=job.wildcards["arch"],
        activations=job.input.npz,
        sae=sae,
        out_saes=job.output.saes,
        out_history=job.output.history,
        device=sae["device"],
    )


def train_sweep(
    architecture: str, activations: str, sae: Mapping[str, Any], out_saes: str, out_history: str, device: str = "auto"
) -> dict[str, Any]:
    """Rule ``sae_train``: every SAE of one architecture on one model's activations, on ``device``."""
    lease = select_device(device)
    import torch

    from ..architectures import save_saes
    from ..training import activation_scale, train_sae

    act = load_activations(activations)
    scale = activation_scale(act["h_train"])
    dev = torch.device(lease.device)
    h_tr = torch.from_numpy((act["h_train"] * scale).astype(np.float32)).to(dev)
    h_ho = torch.from_numpy((act["h_heldout"] * scale).astype(np.float32)).to(dev)
    fit = _saelens_fit if sae["backend"] == "saelens" else train_sae
    saes, history = {}, {}
    for i, spec in enumerate(sweep(sae, architecture)):
        saes[spec.name], history[spec.name] = fit(spec, h_tr, h_ho, sae, seed=int(sae["seed"]) + i)
    meta = {
        "architecture": architecture,
        "device": lease.describe(),
        "latent": int(h_tr.shape[1]),
        "backend": sae["backend"],
    }
    save_saes(out_saes, saes, scale, meta)
    io.write_sidecar(out_saes, provenance_params(sae), inputs={"activations": activations})
    record = {
        **meta,
        "scale": scale,
        "saes": history,
        "seconds": sum(h["seconds"] for h in history.values()),
        "provenance": io.provenance(provenance_params(sae), {"activations": activations}, lease=lease.record()),
    }
    io.write_json(out_history, record)
    lease.release()
    return record


def _saelens_fit(spec, h_train, h_heldout, sae_cfg: Mapping[str, Any], seed: int):
    """``sae.backend: saelens``: SAELens' SAE and trainer, converted to this package's class (same history keys)."""
    import time

    from ..saelens import to_bows, train
    from ..training import evaluate

    t0 = time.perf_counter()
    theirs = train(spec, h_train, float(sae_cfg["lr"]), int(sae_cfg["batch_size"]), int(sae_cfg["epochs"]), seed)
    ours = to_bows(spec, theirs.cpu())
    ev = evaluate(ours, h_heldout.cpu())
    return ours, {
        "epoch": [int(sae_cfg["epochs"])],
        "heldout_explained_variance": [ev["explained_variance"]],
        "heldout_l0": [ev["l0"]],
        "seconds": time.perf_counter() - t0,
        "backend": "saelens",
    }
