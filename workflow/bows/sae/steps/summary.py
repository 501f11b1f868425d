"""Rule ``sae_summary``: every model's tables in one, summary.json and the claims table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ... import io
from ...claims import write_claims, write_claims_html
from ...stage import Job, Stage
from ..claims import claim_records, claims
from ..files import provenance_params

__all__ = ["STAGE", "summarise"]

SAE_TABLES = ("scores", "hedging", "words")
STAGE = Stage(__name__, tables=(*SAE_TABLES, "claims"), files=("json", "claims_json", "claims_html"), sections=("sae",))
TITLE = "SAEs on BOWS: the SAE papers' claims"


def _scale_text(rec: Mapping[str, Any]) -> str:
    return (
        f"{rec['n_words']} words in L = {rec['latent']} (V = {rec['vocab_size']}), g = {rec['group_size']}, "
        f"{rec['samples']['train']} train / {rec['samples']['heldout']} held-out samples"
    )


def summarise(
    scores: Sequence[str],
    hedging: Sequence[str],
    words: Sequence[str],
    activations: Sequence[str],
    histories: Sequence[str],
    models: Sequence[str],
    sae: Mapping[str, Any],
    out_scores: str,
    out_hedging: str,
    out_words: str,
    out_json: str,
    out_claims: str,
    out_claims_html: str,
) -> dict[str, Any]:
    """Rule ``sae_summary``: the tables of every model in one, summary.json (true L0s, timings, best MCCs, claims)
    and the claims table."""
    tables = {
        out_scores: pd.concat([pd.read_parquet(p) for p in scores], ignore_index=True),
        out_hedging: pd.concat([pd.read_parquet(p) for p in hedging], ignore_index=True),
        out_words: pd.concat([pd.read_parquet(p) for p in words], ignore_index=True),
    }
    inputs = {"scores": list(scores), "hedging": list(hedging), "words": list(words)}
    for stem, df in tables.items():
        for p in io.write_table(df, stem):
            io.write_sidecar(p, provenance_params(sae), inputs=inputs)
    data = {m: io.read_json(p) for m, p in zip(models, activations)}
    for rec in data.values():
        rec.pop("provenance", None)
    hist = [io.read_json(p) for p in histories]
    c = claims(tables[out_scores], tables[out_hedging], data, sae)
    summary = {
        "models": {
            m: {k: rec[k] for k in ("latent", "n_words", "group_size", "true_l0_train", "true_l0_heldout", "samples")}
            for m, rec in data.items()
        },
        "training_seconds": {
            f"{h['architecture']}@{m}": h["seconds"] for h, m in zip(hist, _history_models(histories, models))
        },
        "best_mcc": _best_mcc(tables[out_scores]),
        "claims": c,
        "provenance": io.provenance(provenance_params(sae), inputs),
    }
    io.write_json(out_json, summary)
    records = claim_records(c, {m: _scale_text(rec) for m, rec in data.items()})
    write_claims(records, out_claims, config=provenance_params(sae), inputs=inputs)
    write_claims_html(records, out_claims_html, TITLE, config=provenance_params(sae), inputs=inputs)
    return summary


def run(job: Job) -> None:
    """Rule sae_summary: the tables, summary and claims of every SAE model the job's inputs list."""
    out = job.output
    summarise(
        scores=list(job.input.scores),
        hedging=list(job.input.hedging),
        words=list(job.input.words),
        activations=list(job.input.activations),
        histories=list(job.input.histories),
        models=job.params["models"],
        sae=job.config["sae"],
        out_scores=out.scores,
        out_hedging=out.hedging,
        out_words=out.words,
        out_json=out.json,
        out_claims=out.claims,
        out_claims_html=out.claims_html,
    )


def _history_models(histories: Sequence[str], models: Sequence[str]) -> list[str]:
    """The model tag of each history file (its path holds the tag)."""
    return [next((m for m in models if f"/{m}/" in str(p)), "?") for p in histories]


def _best_mcc(scores: pd.DataFrame) -> dict[str, Any]:
    d = scores[(scores["metric"] == "mcc") & (scores["architecture"] != "ground_truth")]
    out = {}
    for (model, arch), g in d.groupby(["model", "architecture"]):
        best = g.loc[g["value"].idxmax()]
        out[f"{arch}@{model}"] = {
            "mcc": float(best["value"]),
            "width": int(best["width"]),
            "sparsity": float(best["sparsity"]),
        }
    return out
