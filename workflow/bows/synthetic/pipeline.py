"""The synthetic branch's metric step as a function of files (rule synthetic_metrics: :mod:`.stages.metrics`).

It takes ``syn``, the ``synthetic`` config section resolved for one data variant (:func:`.variants.variants`), and
writes under ``results/synthetic/{variant}/{structure}/``:

    compute_metrics  data.npz + models.npz → metrics table (one row per model × metric) + Gram table

The data and training steps are in :mod:`.runs`, the variants are resolved in :mod:`.variants`, the summary of every
structure and the paper's claims in :mod:`.summary` and :mod:`.claims`; the figures are drawn by
:mod:`bows.figures.stages`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..errors import CheckpointError
from . import data as sdata
from . import metrics as smetrics
from .runs import load_data, provenance_config

__all__ = ["load_models", "compute_metrics"]

log = logging.getLogger("bows.synthetic")


def load_models(path: str | Path) -> pd.DataFrame:
    """The models of a ``models.npz`` as a DataFrame: one row per model with ``W`` ([m, F] array) and ``b``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arr = {k: z[k] for k in z.files}
        missing = {"W", "b", "latent", "activation", "weight_decay", "seed"} - set(arr)
        if missing:
            raise ValueError(f"missing arrays {sorted(missing)}")
    except (OSError, ValueError, EOFError) as err:
        raise CheckpointError(
            f"cannot read synthetic models {path}: {err}", "delete the file and rerun the workflow to retrain"
        ) from None
    rows = []
    for i in range(len(arr["latent"])):
        m = int(arr["latent"][i])
        rows.append(
            {
                "activation": str(arr["activation"][i]),
                "weight_decay": float(arr["weight_decay"][i]),
                "latent": m,
                "seed": int(arr["seed"][i]),
                "W": arr["W"][i, :m],
                "b": arr["b"][i],
                "train_mse": float(arr["train_mse"][i]),
                "val_mse": float(arr["val_mse"][i]),
                "final_train_loss": float(arr["loss"][i, -1]),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------------ metrics


def compute_metrics(
    structure: str,
    syn: Mapping[str, Any],
    data_npz: str | Path,
    models_npz: str | Path,
    out_metrics: str | Path,
    out_gram: str | Path,
) -> pd.DataFrame:
    """Metric table (structure, activation, weight_decay, latent, seed, metric, value) and the trace-normalised
    Gram entries (…, i, j, value; the data covariance is stored under activation ``data``, latent 0)."""
    d = load_data(data_npz)
    cov = d["covariance"]
    cov_val = sdata.covariance(d["x"][d["val"]]) if len(d["val"]) > 1 else None
    models = load_models(models_npz)
    variant = syn["variant"]
    rows, grams = [], []
    for r in models.itertuples(index=False):
        key = {
            "variant": variant,
            "structure": structure,
            "activation": r.activation,
            "weight_decay": r.weight_decay,
            "latent": r.latent,
            "seed": r.seed,
        }
        values = smetrics.synthetic_model_metrics(r.W, r.b, cov, cov_val)
        values.update(train_mse=r.train_mse, val_mse=r.val_mse, final_train_loss=r.final_train_loss)
        rows += [{**key, "metric": k, "value": float(v)} for k, v in values.items()]
        grams.append((key, smetrics.normalized_gram(r.W)))
    grams.append(
        (
            {
                "variant": variant,
                "structure": structure,
                "activation": "data",
                "weight_decay": float("nan"),
                "latent": 0,
                "seed": 0,
            },
            cov,
        )
    )
    F = cov.shape[0]
    ii, jj = np.meshgrid(np.arange(F), np.arange(F), indexing="ij")
    gram = pd.concat(
        [
            pd.DataFrame(
                {**{k: [v] * F * F for k, v in key.items()}, "i": ii.ravel(), "j": jj.ravel(), "value": G.ravel()}
            )
            for key, G in grams
        ],
        ignore_index=True,
    )
    table = pd.DataFrame(rows)
    prov = provenance_config(syn, structure)
    inputs = {"data": str(data_npz), "models": str(models_npz)}
    for df, stem in ((table, out_metrics), (gram, out_gram)):
        for path in io.write_table(df, stem):
            io.write_sidecar(path, prov, inputs=inputs)
    return table
