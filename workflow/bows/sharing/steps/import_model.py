"""Rule import_model: one model of a shared grid into the run's results tree (bows.sharing.source.import_model)."""

from __future__ import annotations

from ...stage import Job, Section, Stage
from ..source import import_model

STAGE = Stage(
    __name__,
    files=("model", "run"),
    sections=(
        Section("corpus"),
        Section("vocab"),
        Section("windows", only=("group_size", "stride", "encoding")),
        Section("train", only=("source",)),
    ),
)


def run(job: Job) -> None:
    """Rule import_model: ``params.result`` holds the run's training settings that change a model and
    ``params.result_keys`` their names (bows.train.result_params, RESULT_KEYS)."""
    config = {**job.config, "train": job.params["result"]}
    import_model(
        weights=job.input.weights,
        model_config=job.input.config,
        run=job.input.run,
        export_vocab=job.input.export_vocab,
        vocab=job.input.vocab,
        model_out=job.output.model,
        run_out=job.output.run,
        spec=job.model,
        config=config,
        result_keys=job.params["result_keys"],
        source=job.config["train"]["source"],
    )
