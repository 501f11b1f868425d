"""Contexts of the analysed words in the run's own training corpus (the text the BOWS models see).

A *passage* is the start of one training record: its first ``passage_chars`` characters, cut back to the last
non-word character so that no word is cut in two. The records that contain a word are those whose BOWS token ids
(the CSR documents of the vocab stage) contain it; its *occurrence* in a record is the first whole-word match
(``(?<!\\w)word(?!\\w)``, case-insensitive when the vocabulary is lower-cased) that ends inside the passage.

Each word gets up to ``n_contexts`` occurrences, one per passage, drawn in one seeded random order of the records.
Words are served rarest first, and a word takes the passages already chosen for others before new ones, so one
forward pass of the language model serves several words (the order of the records is the same for every word,
so which passages a word gets does not depend on which other words are analysed beyond that sharing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["records_containing", "passage_text", "word_pattern", "Occurrences", "select_occurrences"]


def records_containing(indptr: np.ndarray, indices: np.ndarray, vocab_ids: np.ndarray) -> list[np.ndarray]:
    """For each vocabulary id (−1: none), the sorted indices of the records whose token ids contain it."""
    vocab_ids = np.asarray(vocab_ids, dtype=np.int64)
    indptr = np.asarray(indptr, dtype=np.int64)
    valid = vocab_ids[vocab_ids >= 0]
    if valid.size == 0:
        return [np.zeros(0, np.int64) for _ in vocab_ids]
    lut = np.full(int(max(valid.max() + 1, 1)), -1, dtype=np.int64)
    lut[valid] = np.arange(valid.size)
    ids = np.asarray(indices, dtype=np.int64)
    doc = np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr))
    inside = ids < lut.size
    col = np.full(ids.size, -1, dtype=np.int64)
    col[inside] = lut[ids[inside]]
    keep = col >= 0
    pairs = np.unique(col[keep] * (indptr.size) + doc[keep])
    cols, docs = pairs // indptr.size, pairs % indptr.size
    bounds = np.searchsorted(cols, np.arange(valid.size + 1))
    per_valid = [docs[bounds[k] : bounds[k + 1]] for k in range(valid.size)]
    out, k = [], 0
    for v in vocab_ids:
        if v >= 0:
            out.append(per_valid[k])
            k += 1
        else:
            out.append(np.zeros(0, np.int64))
    return out


_WORD_CHAR = re.compile(r"\w")


def passage_text(text: str, passage_chars: int) -> str:
    """The first ``passage_chars`` characters of ``text``, cut back so that no word is cut in two."""
    if len(text) <= passage_chars:
        return text
    cut = passage_chars
    while cut > 0 and _WORD_CHAR.match(text[cut]) and _WORD_CHAR.match(text[cut - 1]):
        cut -= 1
    return text[:cut]


def word_pattern(word: str, case_insensitive: bool = False) -> re.Pattern:
    """A whole-word match of ``word`` (no word character before or after it)."""
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE if case_insensitive else 0)


@dataclass
class Occurrences:
    """One row per (word, passage): ``record`` (training record), ``word`` (position in the analysed list),
    ``start``/``end`` (character span in the passage); ``records_with_word[k]`` counts the records containing
    word k, ``passages`` maps each chosen record to its passage text."""

    table: pd.DataFrame
    records_with_word: np.ndarray
    passages: dict[int, str]

    def counts(self, n_words: int) -> np.ndarray:
        """Contexts found per word."""
        return np.bincount(self.table["word"].to_numpy(dtype=np.int64), minlength=n_words)


def select_occurrences(
    texts: Sequence[str],
    words: Sequence[str],
    records: Sequence[np.ndarray],
    n_contexts: int,
    passage_chars: int,
    seed: int,
    case_insensitive: bool = False,
) -> Occurrences:
    """Up to ``n_contexts`` occurrences of each word, one per passage (see the module docstring)."""
    n_docs = len(texts)
    key = np.random.default_rng(seed).permutation(n_docs)
    chosen = np.zeros(n_docs, dtype=bool)
    passages: dict[int, str] = {}
    rows: list[tuple[int, int, int, int]] = []
    sizes = np.array([len(r) for r in records], dtype=np.int64)
    for k in np.argsort(sizes, kind="stable"):
        recs = np.asarray(records[k], dtype=np.int64)
        if recs.size == 0:
            continue
        recs = recs[np.argsort(key[recs], kind="stable")]
        recs = np.concatenate([recs[chosen[recs]], recs[~chosen[recs]]])
        pattern = word_pattern(words[k], case_insensitive)
        found = 0
        for r in recs:
            r = int(r)
            text = passages.get(r)
            if text is None:
                text = passage_text(str(texts[r]), passage_chars)
            m = pattern.search(text)
            if m is None:
                continue
            passages[r] = text
            chosen[r] = True
            rows.append((r, int(k), m.start(), m.end()))
            found += 1
            if found >= n_contexts:
                break
    table = pd.DataFrame(rows, columns=["record", "word", "start", "end"])
    table = table.sort_values(["record", "start", "word"], kind="stable").reset_index(drop=True)
    used = set(table["record"].tolist())
    return Occurrences(table, sizes, {r: t for r, t in passages.items() if r in used})
