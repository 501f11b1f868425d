"""The words every reference represents: the word groups' words and the most frequent words of the BOWS vocabulary.

Words are keyed by their form in the BOWS vocabulary (``January``, ``I``), so that a reference's row, a model's
column and a data row of the same word carry the same name. A group word missing from the BOWS vocabulary is kept
with its status, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.words import Group, WordIndex

__all__ = ["AnalysedWords", "analysed_words", "analysed_words_of", "top_words", "TOP_SCOPE"]

TOP_SCOPE = "Top words"


@dataclass
class AnalysedWords:
    """The analysed words in order (groups first, then the frequent words), their vocabulary ids (-1: not in the
    vocabulary) and the group (or ``Top words``) that first asked for each."""

    words: list[str]
    vocab_ids: np.ndarray
    origin: list[str]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"word": self.words, "vocab_id": self.vocab_ids, "origin": self.origin})


def top_words(counts: np.ndarray, k: int) -> np.ndarray:
    """Vocabulary ids of the ``k`` most frequent words (ties by vocabulary order)."""
    order = np.argsort(-np.asarray(counts), kind="stable")
    return order[: max(0, int(k))].astype(np.int64)


def analysed_words(index: WordIndex, groups: Mapping[str, Group], counts: np.ndarray, k: int) -> AnalysedWords:
    """Group words (their matched vocabulary form; the configured form when missing) then the top-``k`` words."""
    words: list[str] = []
    ids: list[int] = []
    origin: list[str] = []
    seen: set[str] = set()
    for name, g in groups.items():
        for w, i, m in zip(g.words, g.indices, g.matched):
            form = m if i >= 0 else w
            if form not in seen:
                seen.add(form)
                words.append(form)
                ids.append(int(i))
                origin.append(name)
    for i in top_words(counts, k):
        w = index.words[int(i)]
        if w not in seen:
            seen.add(w)
            words.append(w)
            ids.append(int(i))
            origin.append(TOP_SCOPE)
    return AnalysedWords(words, np.asarray(ids, dtype=np.int64), origin)


def analysed_words_of(vocab_path: str, word_groups: Mapping[str, Any], k: int) -> AnalysedWords:
    """:func:`analysed_words` of a vocabulary file and the ``analysis.word_groups`` section."""
    from ..metrics.words import resolve_groups
    from ..vocab import read_vocab

    vocab = read_vocab(vocab_path)
    index = WordIndex.from_vocab(vocab)
    groups = resolve_groups(word_groups, index)
    return analysed_words(index, groups, vocab.sort_values("index")["count"].to_numpy(), k)
