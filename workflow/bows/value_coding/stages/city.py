"""Rule value_coding_city: the city-direction network, its (lat, lon) probe and the ablations
(:func:`..tasks.run_city`)."""

from __future__ import annotations

from ...stage import Job, Section, Stage

STAGE = Stage(
    __name__, tables=("city_map_cities",), files=("json",), sections=(Section("value_coding", only=("city",)),)
)


def run(job: Job) -> None:
    from ..tasks import run_city

    out = job.tables(STAGE.tables)
    run_city(job.config["value_coding"]["city"], job.output.json, out["city_map_cities"], threads=job.threads)
