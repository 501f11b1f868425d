"""Rule value_coding_table: Table 1, ours beside the paper's (:func:`..tasks.table1`)."""

from __future__ import annotations

from ...stage import Job, Stage

STAGE = Stage(__name__, tables=("table1",), files=("html",))


def run(job: Job) -> None:
    from ..tasks import table1

    out = job.tables(STAGE.tables)
    table1(job.input.city, job.input.modular, out["table1"], out_html=job.output.html)
