"""Rule fig_references: the references' rings and per-layer alignment figures, from the tables only."""

from __future__ import annotations

from ...stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    figures=("references_rings", "references_layers"),
    sections=(
        "figures",
        Section("references", only=("use",)),
        Section("analysis", only=("models",)),
        Section("train", only=("grid",)),
    ),
)


def run(job: Job) -> None:
    """Rule fig_references: draw both figures and save every format with its provenance."""
    import pandas as pd

    from ...figures.references import draw, pca_beside
    from ...figures.theme import save_outputs
    from ...grid import model_grid, model_ref

    months = model_ref(job.config["analysis"]["models"]["months"])
    pca = pca_beside(model_grid({"train": job.config["train"]}), months)
    tables = {k: str(job.input[k]) for k in ("coords", "geometry", "alignment")}
    figs = draw(
        pd.read_parquet(tables["coords"]),
        pd.read_parquet(tables["geometry"]),
        pd.read_parquet(tables["alignment"]),
        months.tag,
        pca.tag if pca else None,
        list(job.config["references"]["use"]),
        job.config["figures"],
    )
    for name, fig in figs.items():
        save_outputs(fig, job.figure_paths(name), job.config["figures"], tables)
