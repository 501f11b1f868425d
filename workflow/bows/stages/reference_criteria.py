"""Rule references_criteria: the references' claims (ring, alignment, beyond PMI) as pass/fail records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    files=("criteria",),
    sections=(
        Section("references", only=("use",)),
        Section("analysis", only=("thresholds", "models")),
        Section("corpus", only=("name",)),
        Section("vocab", only=("size",)),
        Section("windows", only=("group_size",)),
    ),
)


def scale_label(corpus: str, vocab_size: int, group_size: int) -> str:
    """How the run is named in a criterion's ``evaluated_at``."""
    return f"corpus {corpus}, V = {vocab_size}, G = {group_size}"


def run_criteria(
    geometry: str,
    alignment: str,
    out: str,
    references: list[str],
    analysis: Mapping[str, Any],
    scale: str,
    config: Mapping[str, Any] | None = None,
) -> list[dict]:
    """Evaluate the claims and write them as JSON (with provenance)."""
    import pandas as pd

    from ..grid import model_ref
    from ..io import provenance, write_json
    from ..metrics.reference_criteria import reference_criteria
    from ..references.summary import summary_values

    geo, ali = pd.read_parquet(geometry), pd.read_parquet(alignment)
    months = model_ref(analysis["models"]["months"]).tag
    records = reference_criteria(geo, ali, references, months, analysis["thresholds"], scale)
    write_json(
        out,
        {
            "criteria": records,
            "summary": summary_values(geo, ali, references, months),
            "provenance": provenance(config, {"geometry": geometry, "alignment": alignment}),
        },
    )
    return records


def run(job: Job) -> None:
    """Rule references_criteria."""
    cfg = job.config
    run_criteria(
        geometry=job.input.geometry,
        alignment=job.input.alignment,
        out=str(job.output.criteria),
        references=list(cfg["references"]["use"]),
        analysis=cfg["analysis"],
        scale=scale_label(cfg["corpus"]["name"], cfg["vocab"]["size"], cfg["windows"]["group_size"]),
        config=cfg,
    )
