"""Rule references_vectors: static word vectors (GloVe 6B 50d, or the user's own) over the analysed words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    tables=("words",),
    files=("representations",),
    sections=(
        Section("references", only=("top_words", "vectors")),
        Section("analysis", only=("word_groups",)),
    ),
)


def run_vectors(
    reference: str,
    vocab: str,
    out: Mapping[str, str],
    refs: Mapping[str, Any],
    word_groups: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> None:
    """Representations of the analysed words by the word vectors ``reference`` (glove50 or vectors)."""
    from ...io import write_sidecar
    from ...metrics.tables import save
    from ...references.build import vector_representation
    from ...references.store import save_representation
    from ...references.vectors import load_glove, read_npy_vectors, read_word2vec
    from ...references.words import analysed_words_of

    analysed = analysed_words_of(vocab, word_groups, int(refs["top_words"]))
    vec = refs["vectors"]
    if reference == "glove50":
        vectors, lowercase, ins = load_glove(), True, {"vocab": vocab}
    elif str(vec["path"]).endswith(".npy"):
        vectors = read_npy_vectors(vec["path"], vec["words"])
        lowercase, ins = bool(vec["lowercase"]), {"vocab": vocab, "vectors": vec["path"], "words": vec["words"]}
    else:
        vectors = read_word2vec(vec["path"], analysed.words)
        lowercase, ins = bool(vec["lowercase"]), {"vocab": vocab, "vectors": vec["path"]}
    rep, table = vector_representation(reference, vectors, analysed, lowercase)
    save_representation(out["representations"], rep)
    write_sidecar(out["representations"], config, ins, reference={"dimensions": int(rep.X.shape[2])})
    save(table, out["words"], config, ins)


def run(job: Job) -> None:
    """Rule references_vectors: the reference the job's wildcard names."""
    run_vectors(
        reference=str(job.wildcards["reference"]),
        vocab=job.input.vocab,
        out={"representations": str(job.output.representations), **job.tables(STAGE.tables)},
        refs=job.config["references"],
        word_groups=job.config["analysis"]["word_groups"],
        config=job.config,
    )
