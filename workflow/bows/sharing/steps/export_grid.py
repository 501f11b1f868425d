"""Rule export_grid: complete the export folder (bows.sharing.export.export_grid): vocabulary, metric tables,
criteria, config.yaml, the model card and the RO-Crate."""

from __future__ import annotations

from pathlib import Path

from ...grid import model_grid
from ...stage import Job, Stage
from ..export import RUN_SECTIONS, export_grid
from ..layout import TABLES

STAGE = Stage(
    __name__,
    tables=TABLES,
    files=("vocab", "criteria", "config", "card", "crate", "workflow"),
    sections=RUN_SECTIONS,
)


def run(job: Job) -> None:
    """Rule export_grid: the export folder is the model card's; ``params.workflow`` holds the paths in it of the
    copied workflow files (in the order of ``input.workflow``)."""
    sources = {f"corpus/{p.rsplit('/', 1)[-1]}": str(p) for p in job.input.corpus}
    sources["windows.json"] = str(job.input.windows)
    export_grid(
        root=Path(job.output.card).parent,
        specs=model_grid(job.config),
        vocab=job.input.vocab,
        tables={name: str(job.input[name]) for name in TABLES},
        criteria=job.input.criteria,
        workflow_files=dict(zip(job.params["workflow"], map(str, job.input.workflow))),
        config=job.config,
        source_files=sources,
    )
