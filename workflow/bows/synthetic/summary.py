"""Rule synthetic_summary: every (variant, structure)'s metric table in one, summary.json and the paper's synthetic
claims (:mod:`.claims`) as claims.{parquet,csv,json} and the report's claims table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import io
from ..claims import write_claims, write_claims_html
from ..stage import Job, Stage
from .claims import claim_records, claims, wide

__all__ = ["STAGE", "summarise"]

STAGE = Stage(
    __name__, tables=("metrics", "claims"), files=("summary", "claims_json", "claims_html"), sections=("synthetic",)
)
TITLE = "Synthetic BOWS: the paper's claims"
DATA_STATISTICS = ("spec", "mean_activation", "active_per_sample", "distinct_samples", "iid_p")


def _by_run(paths: Sequence[str | Path]) -> dict[str, dict[str, Any]]:
    """``data.json`` or ``train.json`` files keyed ``"variant/structure"``."""
    return {f"{d['variant']}/{d['structure']}": d for d in map(io.read_json, paths)}


def summarise(
    metric_tables: Sequence[str | Path],
    data_jsons: Sequence[str | Path],
    train_jsons: Sequence[str | Path],
    syn: Mapping[str, Any],
    out_table: str | Path,
    out_json: str | Path,
    out_claims: str | Path,
    out_claims_html: str | Path | None = None,
) -> dict[str, Any]:
    """Concatenate the metric tables of every (variant, structure) into ``out_table`` (parquet + CSV), write
    ``out_json`` (summary.json: data statistics, timings, and the claims' numbers of :func:`.claims.claims` keyed
    ``"variant/structure"``), the claims as ``out_claims`` (parquet + CSV + JSON, :func:`bows.claims.write_claims`)
    and, with ``out_claims_html``, as the report's claims table. Returns summary.json's content."""
    config = {"synthetic": dict(syn)}
    table = pd.concat([pd.read_parquet(p) for p in metric_tables], ignore_index=True)
    inputs = {"metrics": [str(p) for p in metric_tables]}
    for path in io.write_table(table, out_table):
        io.write_sidecar(path, config, inputs=inputs)
    data, train = _by_run(data_jsons), _by_run(train_jsons)
    numbers = claims(wide(table), syn)
    summary = {
        "data": {k: {key: v.get(key) for key in DATA_STATISTICS} for k, v in data.items()},
        "training": {
            k: {key: v[key] for key in ("models", "seconds", "ms_per_step", "batched")} for k, v in train.items()
        },
        "claims": numbers,
        "provenance": io.provenance(
            config, inputs={**inputs, "data": [str(p) for p in data_jsons], "train": [str(p) for p in train_jsons]}
        ),
    }
    io.write_json(out_json, summary)
    records = claim_records(numbers)
    write_claims(records, out_claims, config=config, inputs=inputs, extra={"seed": numbers["seed"]})
    if out_claims_html:
        write_claims_html(records, out_claims_html, TITLE, config=config, inputs=inputs)
    return summary


def run(job: Job) -> None:
    """Rule synthetic_summary: the summary of every (variant, structure) the job's inputs list."""
    summarise(
        list(job.input.metrics),
        list(job.input.data),
        list(job.input.train),
        job.config["synthetic"],
        job.output.metrics,
        job.output.summary,
        job.output.claims,
        job.output.claims_html,
    )
