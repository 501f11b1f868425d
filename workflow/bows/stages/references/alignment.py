"""Rule references_alignment: RSA, CKA, Procrustes and partial RSA of every object against every reference layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    tables=("alignment",),
    sections=(
        Section("references", only=("use", "top_words")),
        Section("analysis", only=("word_groups", "null_permutations", "seed", "models")),
        Section("train", only=("grid",)),
    ),
)


def run_alignment(
    references: Sequence[str],
    data: str,
    models: Sequence[str],
    vocab: str,
    out: Mapping[str, str],
    top_k: int,
    analysis: Mapping[str, Any],
    grid: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> None:
    """The alignment table of every object with every reference."""
    from ...grid import model_grid, model_ref
    from ...metrics.tables import save
    from ...metrics.words import resolve_groups
    from ...references.compare import alignment_scopes, alignment_table
    from ...references.objects import load_objects
    from ..common import load_index

    index, vocab_df = load_index(vocab)
    groups = resolve_groups(analysis["word_groups"], index)
    specs = model_grid({"train": grid})
    words, objects, _ = load_objects(references, data, models, specs, vocab, model_ref(analysis["models"]["months"]))
    counts = dict(zip(vocab_df["word"].astype(str), vocab_df["count"].astype(float)))
    scopes = alignment_scopes(groups, words, counts, int(top_k))
    table = alignment_table(objects, words, scopes, int(analysis["null_permutations"]), int(analysis["seed"]))
    save(table, out["alignment"], config, {"references": list(references), "data": data, "vocab": vocab})


def run(job: Job) -> None:
    """Rule references_alignment."""
    run_alignment(
        references=list(job.input.references),
        data=job.input.data,
        models=list(job.input.models),
        vocab=job.input.vocab,
        out=job.tables(STAGE.tables),
        top_k=int(job.config["references"]["top_words"]),
        analysis=job.config["analysis"],
        grid=job.config["train"],
        config=job.config,
    )
