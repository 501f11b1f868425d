"""Rule references_lm: a language model's token embedding and residual stream over the analysed words."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ...stage import Job, Section, Stage

log = logging.getLogger("bows.references")

# what the representation depends on: the LM settings (not the list of references used, nor the vectors' files),
# the word groups (the analysed words) and whether the vocabulary is lower-cased (how words are matched in text)
STAGE = Stage(
    __name__,
    tables=("words",),
    files=("representations",),
    sections=(
        Section("references", without=("enabled", "use", "vectors")),
        Section("analysis", only=("word_groups",)),
        Section("vocab", only=("lowercase",)),
    ),
)


def run_lm(
    reference: str,
    vocab: str,
    corpus: str,
    docs: str,
    out: Mapping[str, str],
    refs: Mapping[str, Any],
    word_groups: Mapping[str, Any],
    lowercase: bool,
    config: Mapping[str, Any] | None = None,
) -> None:
    """Representations of the analysed words by the language model ``reference`` (smollm2 or hf): token embedding
    and every layer, contexts from the training corpus ``corpus`` (its CSR token ids under the prefix ``docs``)."""
    import pandas as pd

    from ...devices import select_device
    from ...encode import load_docs
    from ...io import write_sidecar
    from ...metrics.tables import save
    from ...references.build import lm_representation
    from ...references.lm import load_language_model, model_source
    from ...references.store import save_representation
    from ...references.words import analysed_words_of

    source = model_source(reference, refs)  # a missing package or file stops here, before anything is read
    analysed = analysed_words_of(vocab, word_groups, int(refs["top_words"]))
    documents = load_docs(docs)
    texts = pd.read_parquet(corpus, columns=["text"])["text"].tolist()
    if len(texts) != documents.n_docs:
        from ...errors import CorpusError

        raise CorpusError(
            f"{corpus} has {len(texts)} records but its token ids {docs} have {documents.n_docs}",
            "rerun the vocab stage on this corpus (snakemake vocab)",
        )
    with select_device(refs["device"]) as lease:
        lm = load_language_model(source, lease.device)
        rep, table, stats = lm_representation(
            reference,
            lm,
            analysed,
            texts,
            documents.indptr,
            documents.indices,
            int(refs["contexts"]),
            int(refs["min_contexts"]),
            int(refs["passage_chars"]),
            int(refs["batch_size"]),
            int(refs["seed"]),
            case_insensitive=bool(lowercase),
        )
    save_representation(out["representations"], rep)
    ins = {"vocab": vocab, "corpus": corpus, "docs": docs + ".json"}
    write_sidecar(out["representations"], config, ins, reference=stats)
    save(table, out["words"], config, ins)


def run(job: Job) -> None:
    """Rule references_lm: the reference the job's wildcard names."""
    run_lm(
        reference=str(job.wildcards["reference"]),
        vocab=job.input.vocab,
        corpus=job.input.corpus,
        docs=str(job.input.docs).removesuffix(".json"),
        out={"representations": str(job.output.representations), **job.tables(STAGE.tables)},
        refs=job.config["references"],
        word_groups=job.config["analysis"]["word_groups"],
        lowercase=bool(job.config["vocab"]["lowercase"]),
        config=job.config,
    )
