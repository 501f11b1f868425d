"""The data's geometry of the analysed words: rows of co-occurrence statistics with every word of the vocabulary.

Over the training windows (a seeded sample of at most ``analysis.max_windows``, as the data stage uses), with N
windows, n_i windows containing word i and n_ij containing both i and j, each analysed word i is the vector over
all V vocabulary words j of

- **PPMI**: max(0, log(N n_ij / (n_i n_j))) (0 where n_ij = 0), the statistic that word-embedding methods factorise
  (GloVe, SGNS: Levy & Goldberg 2014);
- **phi**: the Pearson correlation of the window indicators, (N n_ij − n_i n_j) / √(n_i(N − n_i) n_j(N − n_j)),
  the correlation the paper's mechanism acts on (``correlation.phi_from_counts`` between two analysed words).

A word's own column (j = i) is set to 0: every word co-occurs with itself. A word in no window has a zero row (no
direction) and is reported missing by every measure.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cooccurrence_counts", "ppmi_rows", "phi_rows"]


def cooccurrence_counts(windows, widx: np.ndarray, word_ids: np.ndarray, chunk: int = 4096):
    """(N, n_i [A], n_j [V], n_ij [A, V]) of the analysed vocabulary ids ``word_ids`` (−1: not in the vocabulary,
    a zero row) over the windows ``widx`` of a :class:`bows.windows.Windows`."""
    from scipy import sparse

    V = int(windows.vocab_size)
    word_ids = np.asarray(word_ids, dtype=np.int64)
    ok = word_ids >= 0
    cols = word_ids[ok]
    nij = np.zeros((len(word_ids), V), dtype=np.int64)
    nj = np.zeros(V, dtype=np.int64)
    block = np.zeros((int(ok.sum()), V), dtype=np.float64)
    widx = np.asarray(widx, dtype=np.int64)
    for c0 in range(0, widx.size, chunk):
        offsets, ids = windows.batch_csr(widx[c0 : c0 + chunk])
        m = sparse.csr_matrix((np.ones(ids.size, dtype=np.float64), ids, offsets), shape=(len(offsets) - 1, V))
        nj += np.asarray(m.sum(axis=0)).ravel().astype(np.int64)
        if cols.size:
            ya = m[:, cols].toarray()  # [chunk, A]
            block += (m.T @ ya).T  # exact: integer counts far below 2^53
    nij[ok] = np.rint(block).astype(np.int64)
    ni = np.where(ok, nj[np.clip(word_ids, 0, None)], 0)
    return int(widx.size), ni, nj, nij


def _zero_self(M: np.ndarray, word_ids: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(word_ids >= 0)
    M[rows, word_ids[rows]] = 0.0
    return M


def ppmi_rows(N: int, ni: np.ndarray, nj: np.ndarray, nij: np.ndarray, word_ids: np.ndarray) -> np.ndarray:
    """[A, V] positive PMI rows (self column 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(N * nij.astype(np.float64) / np.outer(ni, nj).astype(np.float64))
    out = np.where((nij > 0) & np.isfinite(pmi), np.maximum(pmi, 0.0), 0.0)
    return _zero_self(out, np.asarray(word_ids, dtype=np.int64))


def phi_rows(N: int, ni: np.ndarray, nj: np.ndarray, nij: np.ndarray, word_ids: np.ndarray) -> np.ndarray:
    """[A, V] phi rows (self column 0, NaN for constant indicators set to 0)."""
    ni_f, nj_f = ni.astype(np.float64), nj.astype(np.float64)
    cov = N * nij.astype(np.float64) - np.outer(ni_f, nj_f)
    var = np.outer(ni_f * (N - ni_f), nj_f * (N - nj_f))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cov / np.sqrt(var)
    out = np.where(np.isfinite(out), out, 0.0)
    return _zero_self(out, np.asarray(word_ids, dtype=np.int64))
