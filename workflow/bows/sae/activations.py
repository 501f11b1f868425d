"""Ground-truth activations: h = W x from the windows of a BOWS model's training data, at ``sae.group_size``.

A sample is the union of g = ``sae.group_size`` consecutive records starting where a window of the training index
starts (:mod:`bows.windows`): with g ≤ ``windows.group_size`` its records lie inside that window, so training samples
come from training windows and held-out samples from the held-out blocks, sharing no record.

The ground truth is restricted to a word set S (``sae.words`` most frequent words of the training sample, plus the
words of ``sae.groups``; all V words when null): h = Σ_{i ∈ x ∩ S} w_i, so every activation is an exact sparse sum
of the scored directions. Samples with no word of S (h = 0) are dropped. The true L0 is the mean of |x ∩ S|.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..encode import load_docs
from ..errors import CorpusError
from ..windows import Windows

__all__ = ["sample_windows", "support", "word_frequency", "choose_words", "restrict", "activations", "true_l0", "build"]

log = logging.getLogger("bows.sae")


def sample_windows(index: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """A seeded sample of at most ``n`` window starts of ``index`` (sorted; all when n is None or larger)."""
    index = np.asarray(index, dtype=np.int64)
    if n is None or n >= len(index):
        return index
    return np.sort(np.random.default_rng(seed).choice(index, size=int(n), replace=False))


def support(docs_prefix: str | os.PathLike, starts: np.ndarray, group_size: int, stride: int) -> sp.csr_matrix:
    """The binary bag-of-words X [n, V] of the samples starting at window positions ``starts`` (g records each)."""
    wins = Windows(load_docs(docs_prefix), group_size, stride)
    if len(wins) == 0:
        raise CorpusError(f"the train split has fewer records than sae.group_size={group_size}", "lower sae.group_size")
    offsets, cols = wins.batch_csr(np.asarray(starts, dtype=np.int64))
    data = np.ones(len(cols), dtype=np.float32)
    return sp.csr_matrix((data, cols, offsets), shape=(len(starts), wins.vocab_size))


def word_frequency(X: sp.csr_matrix) -> np.ndarray:
    """Share of samples containing each word, float64 [V]."""
    return np.asarray(X.sum(axis=0)).ravel() / max(1, X.shape[0])


def choose_words(freq: np.ndarray, n_words: int | None, forced: Sequence[int] = ()) -> np.ndarray:
    """The ground-truth word ids: the ``n_words`` most frequent (ties by id) plus ``forced``, ascending; every word
    that occurs when ``n_words`` is None. Words that never occur are left out (they have nothing to recover)."""
    seen = np.flatnonzero(freq > 0)
    if n_words is None:
        return seen
    order = seen[np.lexsort((seen, -freq[seen]))]
    chosen = set(order[: int(n_words)].tolist()) | {int(i) for i in forced if freq[int(i)] > 0}
    return np.array(sorted(chosen), dtype=np.int64)


def restrict(X: sp.csr_matrix, words: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """(X[:, words], kept): the columns of the ground-truth words, rows with at least one of them."""
    Xs = X[:, words].tocsr()
    kept = np.flatnonzero(np.diff(Xs.indptr) > 0)
    return Xs[kept], kept


def true_l0(Xs: sp.csr_matrix) -> float:
    """Mean number of ground-truth words per sample: the L0 of the true sparse code."""
    return float(np.diff(Xs.indptr).mean()) if Xs.shape[0] else float("nan")


def activations(W: np.ndarray, Xs: sp.csr_matrix, words: np.ndarray) -> np.ndarray:
    """h = X_S W_Sᵀ, float32 [n, L]: the sum of the present ground-truth words' directions (columns of W)."""
    return np.asarray(Xs @ W[:, words].T, dtype=np.float32)


def build(
    W: np.ndarray,
    docs_prefix: str,
    train_index: np.ndarray,
    heldout_index: np.ndarray,
    sae: Mapping[str, Any],
    stride: int,
    forced: Sequence[int] = (),
) -> dict[str, Any]:
    """Everything the SAE jobs read: training and held-out activations, their supports and the word set."""
    g, seed = int(sae["group_size"]), int(sae["seed"])
    tr = sample_windows(train_index, sae["train_samples"], seed)
    ho = sample_windows(heldout_index, sae["heldout_samples"], seed + 1)
    X_tr, X_ho = support(docs_prefix, tr, g, stride), support(docs_prefix, ho, g, stride)
    freq = word_frequency(X_tr)
    words = choose_words(freq, sae["words"], forced)
    if len(words) == 0:
        raise CorpusError(
            "no ground-truth word occurs in the sampled training records", "raise sae.group_size or sae.train_samples"
        )
    S_tr, keep_tr = restrict(X_tr, words)
    S_ho, keep_ho = restrict(X_ho, words)
    if S_tr.shape[0] < 2 or S_ho.shape[0] < 1:
        raise CorpusError(
            f"only {S_tr.shape[0]} training / {S_ho.shape[0]} held-out samples contain a ground-truth word",
            "raise sae.train_samples, sae.heldout_samples or sae.group_size",
        )
    out = {
        "words": words,
        "frequency": freq[words],
        "h_train": activations(W, S_tr, words),
        "h_heldout": activations(W, S_ho, words),
        "x_heldout": S_ho,
        "true_l0_train": true_l0(S_tr),
        "true_l0_heldout": true_l0(S_ho),
        "samples": {
            "train": int(S_tr.shape[0]),
            "heldout": int(S_ho.shape[0]),
            "train_drawn": len(tr),
            "heldout_drawn": len(ho),
        },
    }
    log.info(
        "SAE activations: %d words, %d train / %d held-out samples, true L0 %.2f",
        len(words),
        S_tr.shape[0],
        S_ho.shape[0],
        out["true_l0_train"],
    )
    return out
