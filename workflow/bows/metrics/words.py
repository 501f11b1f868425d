"""Word lookup for the analyses: word groups, seasonal words, mechanism words and semantic categories.

Lookup rule (paper §6): exact match first; where a group allows it, a case-insensitive fallback that takes the first
vocabulary index (in vocabulary order) whose lowercase form matches. Strict groups raise :class:`VocabError` naming
every unknown word; non-strict groups log a warning and keep the word with index -1 so that tables can say why it is
missing instead of silently dropping it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import VocabError
from ..wordlists import resolve_group_words, word_lists

log = logging.getLogger("bows.metrics")

__all__ = [
    "WordIndex",
    "Group",
    "resolve_group",
    "resolve_groups",
    "semantic_assignment",
    "seasonal_words",
    "mechanism_words",
]


class WordIndex:
    """Fast word → vocabulary index lookup (exact, and lowercase → first index in vocabulary order)."""

    def __init__(self, words: Sequence[str]):
        self.words = [str(w) for w in words]
        self.exact: dict[str, int] = {}
        self.lower: dict[str, int] = {}
        for i, w in enumerate(self.words):
            self.exact.setdefault(w, i)
            self.lower.setdefault(w.lower(), i)

    @classmethod
    def from_vocab(cls, vocab: pd.DataFrame) -> WordIndex:
        """From the ``read_vocab`` DataFrame (rows sorted by ``index``)."""
        v = vocab.sort_values("index")
        if not np.array_equal(v["index"].to_numpy(), np.arange(len(v))):
            raise VocabError("vocabulary indices are not 0..V-1", "rebuild vocab.tsv with the vocab stage")
        return cls(v["word"].astype(str).tolist())

    def __len__(self) -> int:
        return len(self.words)

    def lookup(self, word: str, case_insensitive: bool = False) -> int:
        """Index of ``word`` or -1."""
        i = self.exact.get(word)
        if i is None and case_insensitive:
            i = self.lower.get(word.lower())
        return -1 if i is None else int(i)

    def lookup_many(self, words: Iterable[str], case_insensitive: bool = False) -> np.ndarray:
        return np.array([self.lookup(w, case_insensitive) for w in words], dtype=np.int64)


@dataclass
class Group:
    """A resolved word group. ``indices[k] == -1`` when ``words[k]`` is not in the vocabulary."""

    name: str
    words: list[str]
    indices: np.ndarray
    cyclic: bool = False
    strict: bool = True
    matched: list[str] = field(default_factory=list)  # the vocabulary form actually used ("" when missing)

    @property
    def found(self) -> np.ndarray:
        return self.indices >= 0

    @property
    def missing(self) -> list[str]:
        return [w for w, i in zip(self.words, self.indices) if i < 0]

    def subset(self, name: str, drop: Sequence[str]) -> Group:
        keep = [k for k, w in enumerate(self.words) if w not in set(drop)]
        return Group(
            name,
            [self.words[k] for k in keep],
            self.indices[keep],
            self.cyclic,
            self.strict,
            [self.matched[k] for k in keep],
        )


def resolve_group(
    name: str,
    words: Sequence[str],
    index: WordIndex,
    strict: bool = True,
    case_insensitive: bool = False,
    cyclic: bool = False,
) -> Group:
    """Resolve one group; strict groups raise :class:`VocabError` naming the unknown words."""
    idx = index.lookup_many(words, case_insensitive)
    group = Group(name, list(words), idx, cyclic, strict, [index.words[i] if i >= 0 else "" for i in idx])
    if group.missing:
        msg = (
            f"word group '{name}': {len(group.missing)} of {len(words)} words not in the vocabulary: "
            f"{', '.join(group.missing)}"
        )
        if strict:
            raise VocabError(
                msg,
                f"remove them from analysis.word_groups['{name}'].words, set strict: false to "
                "skip them, set case_insensitive: true, or force them into the vocabulary "
                "(vocab.forced_tokens)",
            )
        log.warning("%s (group is not strict: skipped)", msg)
    found = [f"{w}->{m}" for w, m in zip(group.words, group.matched) if m and m != w]
    if found:
        log.info("word group '%s': case-insensitive matches %s", name, ", ".join(found))
    return group


def resolve_groups(word_groups: Mapping[str, Mapping[str, Any]], index: WordIndex) -> dict[str, Group]:
    """All configured groups (``analysis.word_groups``), unknown words checked before any expensive work.

    Every strict group is checked and all unknown words are reported in one error.
    """
    groups: dict[str, Group] = {}
    errors: list[str] = []
    for name, spec in word_groups.items():
        words = resolve_group_words(name, spec["words"])
        try:
            groups[name] = resolve_group(
                name,
                words,
                index,
                strict=spec["strict"],
                case_insensitive=spec["case_insensitive"],
                cyclic=spec["cyclic"],
            )
        except VocabError as err:
            errors.append(err.problem)
    if errors:
        raise VocabError(
            "; ".join(errors),
            "remove the unknown words from analysis.word_groups, set strict: false "
            "for those groups, or force the words into the vocabulary",
        )
    return groups


def semantic_assignment(
    index: WordIndex, categories: Mapping[str, Sequence[str]] | None = None, n_other: int = 6000, seed: int = 42
) -> pd.DataFrame:
    """Words of the semantic categories (paper §6.5) plus up to ``n_other`` "Other" words.

    A category word maps to the first vocabulary index with the same lowercase form. Categories are claimed in
    reverse order and an index goes to the first category that claims it. "Other" words are unclaimed indices whose
    lowercase form is in no category, shuffled with ``random.Random(seed)``. Returns ``index, word, category``.
    """
    cats = dict(categories if categories is not None else word_lists()["semantic_categories"])
    claimed: dict[int, str] = {}
    lower_all: set[str] = set()
    for cat in reversed(list(cats)):
        for w in cats[cat]:
            lower_all.add(w.lower())
            i = index.lower.get(w.lower())
            if i is not None and i not in claimed:
                claimed[i] = cat
    others = [i for i, w in enumerate(index.words) if i not in claimed and w.lower() not in lower_all]
    random.Random(seed).shuffle(others)
    others = others[: max(0, n_other)]
    rows = [(i, index.words[i], c) for i, c in claimed.items()] + [(i, index.words[i], "Other") for i in others]
    df = pd.DataFrame(rows, columns=["index", "word", "category"])
    return df.sort_values("index", kind="stable").reset_index(drop=True)


def seasonal_words() -> list[tuple[str, str]]:
    """(word, season) pairs of the teaser figure, in the paper's order."""
    return [(w, s) for s, ws in word_lists()["seasonal_words"].items() for w in ws]


def mechanism_words(target: str) -> dict[str, list[str]]:
    """Correlated / uncorrelated context and R² panel words of a mechanism target (empty lists if unknown)."""
    spec = word_lists()["mechanism"]["targets"].get(target)
    if spec is None:
        return {
            "correlated": [],
            "uncorrelated": ["orange", "milk", "rice", "fish"],
            "r2_words": [target] + list(word_lists()["mechanism"]["default_r2_words"]),
        }
    return {k: list(v) for k, v in spec.items()}
