"""The paper's word lists (packaged in ``bows/data``): forced tokens, word groups, semantic categories, seasonal and
mechanism words, and stop words."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["word_lists", "paper_forced_tokens", "resolve_group_words", "stopwords", "PAPER_GROUPS"]


@lru_cache(maxsize=1)
def word_lists() -> dict[str, Any]:
    """The paper's word lists (forced tokens, semantic categories, word groups, seasonal words, mechanism)."""
    text = resources.files("bows").joinpath("data/word_lists.json").read_text(encoding="utf-8")
    return json.loads(text)


def paper_forced_tokens() -> list[str]:
    """The 39 forced tokens of the official code, in Python-sorted order."""
    return sorted({w for words in word_lists()["forced_tokens"].values() for w in words})


PAPER_GROUPS = {
    "Months": lambda wl: wl["word_groups"]["Months"],
    "Roman numerals": lambda wl: wl["word_groups"]["Roman numerals"],
    "Days": lambda wl: wl["forced_tokens"]["days"],
    "Planets": lambda wl: wl["forced_tokens"]["planets"],
    "Animal families": lambda wl: wl["forced_tokens"]["animal_families"],
    "Animal examples": lambda wl: wl["forced_tokens"]["animal_examples"],
}


def resolve_group_words(name: str, words: str | list[str]) -> list[str]:
    """The words of a group: a list as given, or ``"paper"`` for the built-in list of that group name."""
    if isinstance(words, str):
        if words != "paper":
            raise ConfigError(
                f"word group '{name}': words must be a list or \"paper\", got {words!r}",
                "write the words as a YAML list, e.g. words: [January, February]",
            )
        if name not in PAPER_GROUPS:
            raise ConfigError(
                f"word group '{name}' has no built-in list",
                f"give its words as a list; built-in groups are {sorted(PAPER_GROUPS)}",
            )
        return list(PAPER_GROUPS[name](word_lists()))
    return list(words)


def stopwords(spec: str) -> frozenset[str]:
    """Stop words: ``nltk_english`` (bundled list), ``none``, or a path to a file with one word per line."""
    if spec == "none":
        return frozenset()
    if spec == "nltk_english":
        text = resources.files("bows").joinpath("data/nltk_english_stopwords.txt").read_text(encoding="utf-8")
    else:
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(
                f"vocab.stopwords: file {spec} does not exist",
                "use nltk_english, none, or the path of a file with one word per line",
            )
        text = path.read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip())
