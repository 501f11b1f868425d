"""Rule value_coding_modular: the modular-addition network, its key Fourier frequencies and the ablations
(:func:`..tasks.run_modular`)."""

from __future__ import annotations

from ...stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    tables=("modular_addition_fourier",),
    files=("json",),
    sections=(Section("value_coding", only=("modular",)),),
)


def run(job: Job) -> None:
    from ..tasks import run_modular

    out = job.tables(STAGE.tables)
    run_modular(
        job.config["value_coding"]["modular"], job.output.json, out["modular_addition_fourier"], threads=job.threads
    )
