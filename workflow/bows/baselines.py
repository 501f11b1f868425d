"""Baselines as models: ``pca``, the optimal linear autoencoder, written as a model file like a trained model.

The tied form x̂ = WᵀW x + b with W ∈ ℝ^{L×V} and an output bias b is, among all rank-L affine reconstructions, best
in mean squared error when WᵀW projects onto the top-L eigenvectors U_L of the windows' centred covariance and
b = (I − U_L U_Lᵀ) μ, so that x̂ = μ + U_L U_Lᵀ (x − μ) (Eckart–Young on the centred data). The ``pca`` model is
exactly that: W = U_Lᵀ (rows orthonormal, ‖W‖²_F = L), b = (I − P) μ, nothing trained. Its eigenvectors come from
the metrics stage's sample of training windows (:mod:`bows.metrics.subspace`), in the run's window encoding.
Metrics that apply the model (R², mechanism) apply the ReLU model's formula, so they see ReLU(WᵀWx + b).
The trained ``linear`` variant (x̂ = WᵀWx + b, gradient descent with the same weight decay) is the other reference.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .errors import ConfigError, ShapeError
from .grid import BASELINE_VARIANTS, ModelSpec
from .io import load_npz, provenance, sidecar_path, write_json

__all__ = ["pca_weights", "write_pca_model"]


def pca_weights(sub: Mapping[str, Any], latent: int) -> tuple[np.ndarray, np.ndarray]:
    """(W [L, V], b [V]) float32 of the pca model from a subspace table (``cov_vectors``, ``mean``)."""
    U = np.asarray(sub["cov_vectors"], dtype=np.float64)
    if latent > U.shape[1]:
        raise ShapeError(
            f"the pca model needs {latent} eigenvectors but the subspace table holds {U.shape[1]}",
            "raise analysis.subspace_max_latent to at least the largest pca latent size",
        )
    U = U[:, :latent]
    mu = np.asarray(sub["mean"], dtype=np.float64)
    b = mu - U @ (U.T @ mu)
    return U.T.astype(np.float32), b.astype(np.float32)


def write_pca_model(
    subspace: str | os.PathLike, model_out: str | os.PathLike, run_out: str | os.PathLike, spec: ModelSpec
) -> dict[str, Any]:
    """Rule pca_model: write the model file (as :func:`bows.model.save_weights`) and a ``run.json`` without history
    for the pca model ``spec`` (latent size ``spec.latent`` from the eigenvectors of the subspace file, as
    :func:`bows.metrics.subspace.save_subspace` writes it)."""
    from .model import save_weights

    if spec.variant not in BASELINE_VARIANTS:
        raise ConfigError(
            f"the pca baseline cannot write a {spec.variant!r} model",
            f"train {spec.variant} models with rule train_model; the baseline writes {list(BASELINE_VARIANTS)}",
        )
    sub = load_npz(subspace)
    W, b = pca_weights(sub, spec.latent)
    save_weights(model_out, torch.from_numpy(W), torch.from_numpy(b))
    prov = provenance(
        None,
        inputs={"subspace": str(subspace)},
        hash_inputs=True,
        outputs={"model": str(model_out), "run": str(run_out)},
    )
    record = {
        "model": {
            "variant": spec.variant,
            "latent": spec.latent,
            "weight_decay": spec.weight_decay,
            "seed": spec.seed,
            "vocab_size": int(W.shape[1]),
        },
        "baseline": "top-L eigenvectors of the windows' centred covariance; b = (I - P) mean",
        "subspace_windows": int(sub.get("n_windows", 0)),
        "history": {},
        "exposure": None,
        "provenance": prov,
    }
    write_json(sidecar_path(model_out), prov)
    write_json(run_out, record)
    return record
