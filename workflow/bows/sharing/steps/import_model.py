"""Rule import_model: one model of a shared grid into the run's results tree (bows.sharing.source.import_model)."""

from __future__ import annotations

from ...stage import Job, Section, Stage
from ...train_settings import OMIT_WHEN_NULL, RESULT_KEYS
from ..source import import_model

STAGE = Stage(
    __name__,
    files=("model", "run"),
    sections=(
        Section("corpus"),
        Section("vocab"),
        Section("windows", only=("group_size", "stride", "encoding")),
        Section("train", only=(*RESULT_KEYS, "source"), omit_null=OMIT_WHEN_NULL),
    ),
)


def run(job: Job) -> None:
    """Rule import_model: the model that the job's wildcards name; the train section holds the settings that
    change a model (bows.train_settings.RESULT_KEYS) and the source."""
    import_model(
        weights=job.input.weights,
        model_config=job.input.config,
        run=job.input.run,
        export_vocab=job.input.export_vocab,
        vocab=job.input.vocab,
        model_out=job.output.model,
        run_out=job.output.run,
        spec=job.model,
        config=job.config,
        result_keys=RESULT_KEYS,
        source=job.config["train"]["source"],
    )
