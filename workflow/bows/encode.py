"""Documents as CSR token ids (paper §3.4: d_i = sorted unique vocabulary ids of record i's kept tokens).

A split with N records is stored once, as two memory-mappable ``.npy`` arrays:

* ``{prefix}.indptr.npy``  int64 [N+1], ``indptr[0] = 0``, record i's ids are ``indices[indptr[i]:indptr[i+1]]``;
* ``{prefix}.indices.npy`` uint16 when V ≤ 65,535, else int32; each record's ids sorted and unique;

plus ``{prefix}.json`` (n_docs, vocab_size, statistics, provenance). Records shorter than ``min_chars`` or without
in-vocabulary tokens are empty rows: they keep their slot in the windows built from these arrays.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CorpusError, VocabError
from .io import provenance, read_json, save_npy, write_json

__all__ = ["Docs", "load_docs", "save_docs", "docs_prefix", "encode_texts", "encode_docs", "ids_dtype", "SUFFIXES"]

log = logging.getLogger("bows.encode")


def ids_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id fits (V ≤ 65,535), else int32."""
    return np.dtype(np.uint16) if vocab_size <= 65535 else np.dtype(np.int32)


@dataclass
class Docs:
    """Documents as CSR token ids: record i holds ``indices[indptr[i]:indptr[i+1]]`` (sorted, unique)."""

    indptr: np.ndarray  # int64 [n_docs+1]
    indices: np.ndarray  # uint16 / int32
    vocab_size: int

    @property
    def n_docs(self) -> int:
        return int(len(self.indptr) - 1)

    def doc(self, i: int) -> np.ndarray:
        """Sorted unique ids of record ``i``."""
        if not -self.n_docs <= i < self.n_docs:
            raise IndexError(f"document {i} out of range for {self.n_docs} documents")
        i %= self.n_docs
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.indices.nbytes)

    def validate(self) -> None:
        """Check the CSR invariants (monotone indptr, ids below vocab_size)."""
        ip = np.asarray(self.indptr)
        if ip.ndim != 1 or len(ip) < 1 or ip[0] != 0 or ip[-1] != len(self.indices) or np.any(np.diff(ip) < 0):
            raise CorpusError(
                "documents: indptr is not a valid CSR row pointer", "delete the docs files and rerun encode_docs"
            )
        if len(self.indices) and int(np.max(self.indices)) >= self.vocab_size:
            raise VocabError(
                "documents hold ids beyond the vocabulary size",
                "the docs were encoded with another vocabulary; rerun encode_docs",
            )


#: the endings of a split's three documents files after its prefix: the two CSR arrays and the JSON sidecar
SUFFIXES = (".indptr.npy", ".indices.npy", ".json")


def _paths(prefix: str | os.PathLike) -> tuple[Path, Path, Path]:
    p = str(prefix)
    return Path(p + SUFFIXES[0]), Path(p + SUFFIXES[1]), Path(p + SUFFIXES[2])


def docs_prefix(path: str | os.PathLike) -> str:
    """The prefix ``{VOC}/docs/{split}`` of any of a split's three documents files (what :func:`load_docs` and
    :func:`save_docs` take)."""
    p = str(path)
    for suffix in SUFFIXES:
        if p.endswith(suffix):
            return p[: -len(suffix)]
    raise ValueError(f"{p} is not a documents file (its name ends in none of {list(SUFFIXES)})")


def load_docs(prefix: str | os.PathLike, mmap: bool = True) -> Docs:
    """Load ``{prefix}.indptr.npy``, ``{prefix}.indices.npy`` and ``{prefix}.json`` (memory-mapped by default)."""
    ip, ix, meta = _paths(prefix)
    for path in (ip, ix, meta):
        if not path.is_file():
            raise CorpusError(
                f"documents file {path} does not exist", "build it with `snakemake windows` (rule encode_docs)"
            )
    mode = "r" if mmap else None
    info = read_json(meta)
    docs = Docs(np.load(ip, mmap_mode=mode), np.load(ix, mmap_mode=mode), int(info["vocab_size"]))
    if docs.n_docs != int(info["n_docs"]):
        raise CorpusError(
            f"{ip} holds {docs.n_docs} documents but {meta} says {info['n_docs']}",
            "delete the docs files and rerun encode_docs",
        )
    return docs


def save_docs(prefix: str | os.PathLike, docs: Docs, meta: Mapping[str, Any] | None = None) -> None:
    """Write the two arrays and the JSON sidecar atomically (the JSON last, so it marks a complete set)."""
    ip, ix, js = _paths(prefix)
    save_npy(ip, np.asarray(docs.indptr, dtype=np.int64))
    save_npy(ix, np.asarray(docs.indices, dtype=ids_dtype(docs.vocab_size)))
    write_json(js, {"n_docs": docs.n_docs, "vocab_size": docs.vocab_size, **dict(meta or {})})


def encode_texts(
    texts, vocab: Mapping[str, int] | list[str], spec, workers: int = 1, chunk: int = 4096
) -> tuple[Docs, dict[str, Any]]:
    """Encode records (a list, an Arrow array, or ``(n, iterator of lists)``) into :class:`Docs`.

    Returns the documents and statistics: records, kept tokens, in-vocabulary tokens, empty documents, mean ids.
    """
    from .tokenize import _encode_chunk, map_chunks

    word2id = dict(vocab) if isinstance(vocab, Mapping) else {w: i for i, w in enumerate(vocab)}
    V = len(word2id)
    if isinstance(texts, tuple):  # (n, iterator of lists), as from bows.corpus.iter_texts
        n, chunks = texts
    else:
        n = len(texts)
        chunks = _chunks(texts, chunk)
    lengths, parts = [], []
    kept = known = 0
    for lens, flat, k, kn in map_chunks(
        _encode_chunk, chunks, spec, workers, vocab=word2id, total=(n + chunk - 1) // chunk, desc="encode"
    ):
        lengths.append(lens)
        parts.append(flat.astype(ids_dtype(V), copy=False))
        kept += k
        known += kn
    lens = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    if len(lens) != n:
        raise CorpusError(f"encoded {len(lens)} records but expected {n}", "the corpus file changed while reading")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    indices = np.concatenate(parts) if parts else np.zeros(0, ids_dtype(V))
    docs = Docs(indptr, indices, V)
    stats = {
        "records": n,
        "kept_tokens": kept,
        "in_vocab_tokens": known,
        "in_vocab_share": known / kept if kept else 0.0,
        "empty_docs": int(np.sum(lens == 0)),
        "mean_ids_per_doc": float(lens.mean()) if n else 0.0,
        "ids_dtype": str(indices.dtype),
        "bytes": docs.nbytes,
    }
    return docs, stats


def _chunks(texts, size: int):
    """Yield lists of at most ``size`` Python strings from a list, Arrow array/ChunkedArray or iterable."""
    n = len(texts)
    if hasattr(texts, "slice"):  # pyarrow Array / ChunkedArray: convert one chunk at a time
        for start in range(0, n, size):
            yield texts.slice(start, size).to_pylist()
    else:
        for start in range(0, n, size):
            yield list(texts[start : start + size])


def encode_docs(
    corpus: str | os.PathLike,
    vocab: str | os.PathLike,
    out: str | os.PathLike,
    cfg: Mapping[str, Any],
    threads: int = 1,
) -> Docs:
    """Rule ``encode_docs``: tokenise every record of one split and write its CSR documents under ``out``.

    ``out`` is the prefix ``{VOC}/docs/{split}``; ``cfg`` is the ``vocab`` config section (tokeniser settings).
    """
    from .corpus import iter_texts
    from .tokenize import TokenizerSpec
    from .vocab import read_vocab, workers_for

    spec = TokenizerSpec.from_config(cfg)
    table = read_vocab(vocab)
    words = table["word"].tolist()
    n, batches = iter_texts(corpus, batch=4096)  # streamed: the split's text is never held whole
    log.info("encoding %d records of %s with V=%d", n, corpus, len(words))
    docs, stats = encode_texts((n, batches), words, spec, workers=workers_for(cfg, threads), chunk=4096)
    side = read_json(str(vocab) + ".prov.json") if Path(str(vocab) + ".prov.json").is_file() else {}
    meta = {
        "stats": stats,
        "vocab_key": side.get("key"),
        "provenance": provenance({"vocab": dict(cfg)}, {"corpus": corpus, "vocab": vocab}),
    }
    save_docs(out, docs, meta)
    log.info(
        "%d docs, %d ids (%s), %.1f ids/doc, %d empty",
        docs.n_docs,
        len(docs.indices),
        stats["ids_dtype"],
        stats["mean_ids_per_doc"],
        stats["empty_docs"],
    )
    return docs
