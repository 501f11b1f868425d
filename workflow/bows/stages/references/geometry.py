"""Rule references_geometry: the ring and cluster measures of every object (reference layers, data rows, models)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...stage import Job, Section, Stage

# what the objects and the measures depend on
STAGE = Stage(
    __name__,
    tables=("geometry", "coords"),
    sections=(
        Section("references", only=("use", "top_words")),
        Section("analysis", only=("word_groups", "null_permutations", "seed", "knn_k", "models")),
        Section("train", only=("grid",)),
    ),
)


def run_geometry(
    references: Sequence[str],
    data: str,
    models: Sequence[str],
    vocab: str,
    cooc: str | None,
    out: Mapping[str, str],
    analysis: Mapping[str, Any],
    grid: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> None:
    """One geometry table (and the PCA coordinates) over every object."""
    import pandas as pd

    from ...grid import model_grid, model_ref
    from ...metrics.tables import save
    from ...metrics.words import resolve_groups
    from ...references.compare import geometry_tables
    from ...references.objects import load_objects
    from ..common import load_index

    index, _ = load_index(vocab)
    groups = resolve_groups(analysis["word_groups"], index)
    specs = model_grid({"train": grid})
    words, objects, _ = load_objects(references, data, models, specs, vocab, model_ref(analysis["models"]["months"]))
    geometry, coords = geometry_tables(
        objects,
        words,
        groups,
        pd.read_parquet(cooc) if cooc else None,
        int(analysis["null_permutations"]),
        int(analysis["seed"]),
        int(analysis["knn_k"]),
    )
    ins = {"references": list(references), "data": data, "vocab": vocab}
    save(geometry, out["geometry"], config, ins)
    save(coords, out["coords"], config, ins)


def run(job: Job) -> None:
    """Rule references_geometry."""
    run_geometry(
        references=list(job.input.references),
        data=job.input.data,
        models=list(job.input.models),
        vocab=job.input.vocab,
        cooc=job.input.cooc,
        out=job.tables(STAGE.tables),
        analysis=job.config["analysis"],
        grid=job.config["train"],
        config=job.config,
    )
