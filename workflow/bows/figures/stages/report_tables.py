"""Rule fig_tables: the metric tables of the report, each as CSV and HTML (:mod:`bows.figures.report_tables`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...stage import Job, Stage
from ..report_tables import REPORT_TABLES, write_report_table

#: (report table, format) of every output; the rule names them ``<table>_<format>``
OUTPUTS = tuple((name, fmt) for name in REPORT_TABLES for fmt in ("html", "csv"))

STAGE = Stage(__name__, files=tuple(f"{name}_{fmt}" for name, fmt in OUTPUTS))


def run(job: Job) -> None:
    outputs = {name: {fmt: job.output[f"{name}_{fmt}"] for fmt in ("csv", "html")} for name in REPORT_TABLES}
    write_report_tables({source: job.input[source] for source in set(REPORT_TABLES.values())}, outputs)


def write_report_tables(
    sources: Mapping[str, str | Path], outputs: Mapping[str, Mapping[str, str | Path]]
) -> list[Path]:
    """Write each report table of ``outputs`` (table → {"csv": path, "html": path}) from its metric table in
    ``sources`` (metric table → parquet)."""
    written: list[Path] = []
    for name, paths in outputs.items():
        written += write_report_table(name, sources[REPORT_TABLES[name]], paths)
    return written
