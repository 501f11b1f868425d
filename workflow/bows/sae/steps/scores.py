"""Rule ``sae_scores``: every SAE of one model scored against its word directions (MCC, recovery, hedging)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ... import io
from ...stage import Job, Section, Stage
from .. import scores as sc
from ..files import load_activations, provenance_params

__all__ = ["STAGE", "run", "score_model"]

STAGE = Stage(
    __name__,
    tables=("scores", "words", "hedging"),
    sections=(Section("sae", without=("claims", "threads", "device", "gpu_model")),),
)


def run(job: Job) -> None:
    """Rule ``sae_scores``: every SAE of the model the job's wildcards name, scored."""
    out = job.tables(STAGE.tables)
    score_model(
        model=job.model.tag,
        activations=job.input.npz,
        activations_json=job.input.json,
        saes=list(job.input.saes),
        sae=job.config["sae"],
        out_scores=out["scores"],
        out_words=out["words"],
        out_hedging=out["hedging"],
    )


def _sae_rows(
    model: str, name: str, sae_obj: Any, C: np.ndarray, ev: Mapping[str, Any], latent: int
) -> list[dict[str, Any]]:
    spec = sae_obj.spec
    m = sc.mcc(C)
    best = sc.best_recovery(C)
    values = {
        "mcc": m["mcc"],
        "coverage": m["coverage"],
        "best_recovery_mean": float(best.mean()),
        "chance_best_cos": sc.chance_best_cos(latent, spec.width),
        "explained_variance": ev["explained_variance"],
        "l0": ev["l0"],
        "dead_fraction": sc.dead_fraction(ev["fires"]),
        "dead_latents": float(np.sum(ev["fires"] == 0)),
    }
    key = {"model": model, "architecture": spec.architecture, "width": spec.width, "sparsity": spec.sparsity}
    return [{**key, "metric": k, "value": float(v)} for k, v in values.items()]


def _truth_rows(model: str, truth: np.ndarray, members: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """The ground truth scored against itself (MCC 1) and its hedging baseline, as architecture ``ground_truth``."""
    key = {"model": model, "architecture": "ground_truth", "width": truth.shape[0], "sparsity": float("nan")}
    rows = [
        {**key, "group": g, "metric": k, "value": v}
        for g, mem in members.items()
        for k, v in sc.hedging(truth, truth, mem).items()
    ]
    return rows


def score_model(
    model: str,
    activations: str,
    activations_json: str,
    saes: Sequence[str],
    sae: Mapping[str, Any],
    out_scores: str,
    out_words: str,
    out_hedging: str,
) -> pd.DataFrame:
    """Rule ``sae_scores``: score every SAE of one model against its word directions."""
    import torch

    from ..architectures import load_saes
    from ..training import evaluate

    act = load_activations(activations)
    rec = io.read_json(activations_json)
    truth, words = act["truth"].astype(np.float64), act["words"]
    word_names = rec["words"]
    pos = {w: i for i, w in enumerate(word_names)}
    members = {g: np.array([pos[w] for w in ws if w in pos], dtype=np.int64) for g, ws in rec["groups"].items()}
    truth_self = sc.mcc(sc.abs_cos(truth, truth))["mcc"]
    rows = [
        {
            "model": model,
            "architecture": "ground_truth",
            "width": truth.shape[0],
            "sparsity": float("nan"),
            "metric": "mcc",
            "value": truth_self,
        }
    ]
    word_rows, hedge_rows = [], _truth_rows(model, truth, members)
    for path in saes:
        loaded, scale, _ = load_saes(path)
        h_ho = torch.from_numpy((act["h_heldout"] * scale).astype(np.float32))
        for name, s in loaded.items():
            D = s.W_dec.detach().numpy().astype(np.float64)
            C = sc.abs_cos(truth, D)
            rows += _sae_rows(model, name, s, C, evaluate(s, h_ho), truth.shape[1])
            key = {
                "model": model,
                "architecture": s.spec.architecture,
                "width": s.spec.width,
                "sparsity": s.spec.sparsity,
            }
            word_rows.append(
                pd.DataFrame(
                    {
                        **key,
                        "word": word_names,
                        "word_id": words,
                        "frequency": act["frequency"],
                        "best_cos": sc.best_recovery(C),
                    }
                )
            )
            hedge_rows += [
                {**key, "group": g, "metric": k, "value": v}
                for g, mem in members.items()
                for k, v in sc.hedging(truth, D, mem).items()
            ]
    tables = {
        out_scores: pd.DataFrame(rows),
        out_words: pd.concat(word_rows, ignore_index=True),
        out_hedging: pd.DataFrame(hedge_rows),
    }
    for stem, df in tables.items():
        for p in io.write_table(df, stem):
            io.write_sidecar(p, provenance_params(sae), inputs={"activations": activations, "saes": list(saes)})
    return tables[out_scores]
