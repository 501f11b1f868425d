"""What several analysis rules share: the vocabulary's word index, seeded subsamples, models checked against it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import VocabError
from ..metrics.words import WordIndex, resolve_groups


def load_index(vocab_path: str | os.PathLike) -> tuple[WordIndex, pd.DataFrame]:
    """The word index and the vocabulary table of a vocabulary file."""
    from ..vocab import read_vocab

    vocab = read_vocab(vocab_path)
    return WordIndex.from_vocab(vocab), vocab


def sample(n: int, cap: int | None, seed: int) -> np.ndarray:
    """All of range(n), or a sorted seeded subsample of ``cap`` of them."""
    if cap is None or n <= cap:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False)).astype(np.int64)


def load_model(model: str, vocab: str, analysis: Mapping[str, Any]):
    """(word index, resolved word groups, W, b) of a model file, checked against the vocabulary."""
    from ..model_files import load_weights

    index, _ = load_index(vocab)
    groups = resolve_groups(analysis["word_groups"], index)
    W, b = load_weights(model)
    check_vocab_size(W, index, model)
    return index, groups, W, b


def check_vocab_size(W: np.ndarray, index: WordIndex, model: str) -> None:
    """A clear error when a model was trained on another vocabulary."""
    if W.shape[1] != len(index):
        raise VocabError(
            f"{model} has V={W.shape[1]} columns but the vocabulary has {len(index)} words",
            "retrain the model on this vocabulary (delete it and rerun the train stage)",
        )
