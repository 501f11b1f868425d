"""Rule export_model: one trained model of the grid into the export folder (bows.sharing.export.export_model)."""

from __future__ import annotations

from ...stage import Job, Section, Stage
from ..export import export_model

STAGE = Stage(
    __name__,
    files=("weights", "config", "run"),
    sections=(Section("windows", only=("group_size", "stride", "encoding")),),
)


def run(job: Job) -> None:
    """Rule export_model: the model that the job's wildcards name."""
    export_model(
        model=job.input.model,
        run=job.input.run,
        weights_out=job.output.weights,
        config_out=job.output.config,
        run_out=job.output.run,
        spec=job.model,
        windows=job.config["windows"],
    )
