"""Rule fig_criteria: the reproduction-criteria dashboard in every configured format and the criteria table of the
report (:func:`bows.figures.criteria.render_criteria`)."""

from __future__ import annotations

from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("criteria_dashboard",), files=("html",), sections=("figures",))


def run(job: Job) -> None:
    from ..criteria import render_criteria

    render_criteria(
        job.input.criteria, job.figure_paths("criteria_dashboard"), job.config["figures"], html=job.output.html
    )
