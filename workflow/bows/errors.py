"""One exception family: every message says what is wrong and how to fix it."""

from __future__ import annotations


class BowsError(Exception):
    """Base class. ``str(err)`` is ``"<what is wrong>\\n  fix: <how to fix it>"``."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem if not fix else f"{problem}\n  fix: {fix}")


class ConfigError(BowsError):
    """The configuration is invalid or inconsistent."""


class CorpusError(BowsError):
    """The corpus is missing, empty, unreadable or too small."""


class VocabError(BowsError):
    """Unknown words, or a vocabulary that does not match the data."""


class ShapeError(BowsError):
    """Impossible shapes (e.g. latent size larger than the vocabulary)."""


class CheckpointError(BowsError):
    """A model or checkpoint file is missing, truncated, corrupted or unsafe."""


class ExportError(BowsError):
    """A shared grid (an export folder or hub repository) is missing, incomplete, or does not fit the run."""
