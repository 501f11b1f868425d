"""Rule references_criteria: the references' claims (ring, alignment, beyond PMI) as pass/fail records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    files=("criteria", "criteria_html", "this_run"),
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
    out: Mapping[str, str],
    references: list[str],
    analysis: Mapping[str, Any],
    scale: str,
    config: Mapping[str, Any] | None = None,
) -> list:
    """Evaluate the claims; write them through the claims engine (``criteria.{parquet,csv,json}``, with the
    report's numbers under ``report_numbers`` in the JSON), as the report's claims table (``criteria.html``) and the
    captions' sentences (``this_run``, bows.references.summary.write_this_run)."""
    import pandas as pd

    from ...claims import write_claims, write_claims_html
    from ...grid import model_ref
    from ...metrics.reference_criteria import reference_criteria
    from ...references.summary import summary_values, write_this_run

    geo, ali = pd.read_parquet(geometry), pd.read_parquet(alignment)
    months = model_ref(analysis["models"]["months"]).tag
    records = reference_criteria(geo, ali, references, months, analysis["thresholds"], scale)
    numbers = summary_values(geo, ali, references, months)
    write_this_run(numbers, out["this_run"])
    write_claims(
        records,
        out["criteria"],
        config=config,
        inputs={"geometry": geometry, "alignment": alignment},
        extra={"report_numbers": numbers},
    )
    write_claims_html(records, out["criteria_html"], "References: a real language model beside the BOWS models")
    return records


def run(job: Job) -> None:
    """Rule references_criteria."""
    cfg = job.config
    run_criteria(
        geometry=job.input.geometry,
        alignment=job.input.alignment,
        out={name: str(job.output[name]) for name in STAGE.files},
        references=list(cfg["references"]["use"]),
        analysis=cfg["analysis"],
        scale=scale_label(cfg["corpus"]["name"], cfg["vocab"]["size"], cfg["windows"]["group_size"]),
        config=cfg,
    )
