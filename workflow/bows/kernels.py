"""Compiled CPU kernels of the training input path and step (numba), with their numpy/torch references.

Every kernel here has a plain numpy or torch reference beside it (``*_reference``) that computes the same arrays; the
tests compare the two on random inputs. When numba is not installed (or ``BOWS_NO_NUMBA=1``), the references are
used, so results never depend on numba, only speed does.

Batch assembly (:func:`window_union`, :func:`split_batch`) runs serially in the loader thread and releases the GIL;
the loss pass (:func:`mse_pass`) runs in parallel over rows, each row summed in a fixed order, so results do not
depend on the thread count.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "HAVE_NUMBA",
    "set_threads",
    "gather_ranges",
    "window_union",
    "window_union_reference",
    "split_batch",
    "split_batch_reference",
    "mse_pass",
    "mse_pass_reference",
    "gram_add",
    "gram_add_reference",
]

try:  # numba is optional: without it the references below are used
    if os.environ.get("BOWS_NO_NUMBA"):
        raise ImportError("disabled by BOWS_NO_NUMBA")
    import numba
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised with BOWS_NO_NUMBA=1
    numba = None
    HAVE_NUMBA = False


def set_threads(n: int) -> None:
    """Run the parallel kernels on at most ``n`` threads (numba would otherwise use every core of the node)."""
    if HAVE_NUMBA:
        numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


if os.environ.get("BOWS_NUM_THREADS", "").isdigit():  # a job's thread share set before this module loaded
    set_threads(int(os.environ["BOWS_NUM_THREADS"]))


# --------------------------------------------------------------------------------------------- references


def gather_ranges(indices: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) int64 of the slices ``indices[lo[b]:hi[b]]`` concatenated, duplicates kept: one vectorised
    gather (element k of row b sits at lo[b] + k − start of row b)."""
    lens = np.asarray(hi, dtype=np.int64) - np.asarray(lo, dtype=np.int64)
    total = int(lens.sum())
    rows = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    starts = np.cumsum(lens) - lens
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts - lo, lens)
    cols = np.asarray(indices[pos] if total else np.zeros(0, np.int64), dtype=np.int64)
    return rows, cols


def window_union_reference(
    indices: np.ndarray, lo: np.ndarray, hi: np.ndarray, vocab_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR (offsets int64 [B+1], cols int64) of the rows ``indices[lo[b]:hi[b]]``, each sorted and de-duplicated."""
    B = len(lo)
    rows, cols = gather_ranges(indices, lo, hi)
    key = np.unique(rows * vocab_size + cols)
    r = key // vocab_size
    offsets = np.zeros(B + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=B), out=offsets[1:])
    return offsets, key - r * vocab_size


def split_batch_reference(offsets: np.ndarray, cols: np.ndarray, vocab_size: int, threshold: int):
    """The arrays of a :class:`bows.fast_step.Batch` from CSR (offsets, cols) with sorted unique ids per row.

    Returns (rows int64, flat int64 = rows·V + cols, words int64 [K] = the ids present in ≥ ``threshold`` rows,
    dense_x float32 [B, K], r_offsets, r_cols (CSR of the other entries), t_offsets, t_rows (its transpose: per id,
    its rows ascending)), index arrays of the CSR parts in int32.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    B = len(offsets) - 1
    rows = np.repeat(np.arange(B, dtype=np.int64), np.diff(offsets))
    per_word = np.bincount(cols, minlength=vocab_size)
    frequent = per_word >= threshold
    words = np.flatnonzero(frequent).astype(np.int64)
    in_dense = frequent[cols]
    pos = np.full(vocab_size, -1, dtype=np.int64)
    pos[words] = np.arange(words.size)
    dense_x = np.zeros((B, words.size), dtype=np.float32)
    dense_x.reshape(-1)[rows[in_dense] * words.size + pos[cols[in_dense]]] = 1.0
    rest = ~in_dense
    r_rows, r_cols = rows[rest], cols[rest]
    r_offsets = np.zeros(B + 1, dtype=np.int64)
    np.cumsum(np.bincount(r_rows, minlength=B), out=r_offsets[1:])
    order = np.argsort(r_cols, kind="stable")
    t_offsets = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(np.where(frequent, 0, per_word), out=t_offsets[1:])
    i32 = np.int32
    return (
        rows,
        rows * vocab_size + cols,
        words,
        dense_x,
        r_offsets.astype(i32),
        r_cols.astype(i32),
        t_offsets.astype(i32),
        r_rows[order].astype(i32),
    )


def mse_pass_reference(z, b, offsets, cols, relu: bool) -> float:
    """In place on z [B, V] (torch, float32): z ← x̂ − x·1[x̂ > 0 or linear] with x̂ = act(z + b) and x the
    multi-hot of CSR (offsets, cols); returns Σ(x̂ − x)² (the MSE numerator)."""
    import torch

    z.add_(b)
    if relu:
        torch.relu_(z)
    flat = z.view(-1)
    rows = torch.repeat_interleave(torch.arange(z.shape[0]), torch.diff(offsets))
    at = rows * z.shape[1] + cols
    yt = flat[at]
    value = float(torch.dot(flat, flat)) + float((1.0 - 2.0 * yt).sum())
    flat[at] = yt - (yt > 0).to(yt.dtype) if relu else yt - 1.0
    return value


def gram_add_reference(offsets: np.ndarray, cols: np.ndarray, values: np.ndarray, M: np.ndarray) -> None:
    """M += Xᵀ X in place (upper triangle i ≤ j only) for the CSR rows X (cols sorted per row)."""
    for b in range(len(offsets) - 1):
        c = np.asarray(cols[offsets[b] : offsets[b + 1]], dtype=np.int64)
        v = np.asarray(values[offsets[b] : offsets[b + 1]], dtype=np.float64)
        block = np.triu(np.outer(v, v))
        M[np.ix_(c, c)] += block


# --------------------------------------------------------------------------------------------- compiled kernels

if HAVE_NUMBA:

    @njit(cache=True, nogil=True)
    def _rows_by_id(offsets, ids, per_id):  # pragma: no cover - compiled
        # counting sort of a CSR's entries by id: per_id[w + 1] holds the count of id w on entry and its exclusive
        # prefix sum on exit; returns the row of every entry grouped by id, rows ascending within an id
        for w in range(per_id.shape[0] - 1):
            per_id[w + 1] += per_id[w]
        fill = per_id[:-1].copy()
        rows = np.empty(per_id[-1], np.int64)
        for b in range(offsets.shape[0] - 1):
            for k in range(offsets[b], offsets[b + 1]):
                w = ids[k]
                rows[fill[w]] = b
                fill[w] += 1
        return rows

    @njit(cache=True, nogil=True)
    def _window_union(indices, lo, hi, vocab_size):  # pragma: no cover - compiled
        B = lo.shape[0]
        total = 0
        for b in range(B):
            total += hi[b] - lo[b]
        seen = np.full(vocab_size, -1, np.int64)  # seen[id] = last row that holds id
        found = np.empty(total, np.int64)  # each row's ids, de-duplicated, in order of appearance
        offsets = np.zeros(B + 1, np.int64)
        per_id = np.zeros(vocab_size + 1, np.int64)
        n = 0
        for b in range(B):
            for p in range(lo[b], hi[b]):
                w = np.int64(indices[p])
                if seen[w] != b:
                    seen[w] = b
                    found[n] = w
                    per_id[w + 1] += 1
                    n += 1
            offsets[b + 1] = n
        # sort every row by id without comparisons: bucket the entries by id (rows ascending within an id),
        # then deal them back to their rows in id order
        id_rows = _rows_by_id(offsets, found, per_id)
        row_fill = offsets[:-1].copy()
        cols = np.empty(n, np.int64)
        for w in range(vocab_size):
            for k in range(per_id[w], per_id[w + 1]):
                b = id_rows[k]
                cols[row_fill[b]] = w
                row_fill[b] += 1
        return offsets, cols

    @njit(cache=True, nogil=True)
    def _split_batch(offsets, cols, vocab_size, threshold):  # pragma: no cover - compiled
        B = offsets.shape[0] - 1
        nnz = cols.shape[0]
        per_word = np.zeros(vocab_size, np.int64)
        for k in range(nnz):
            per_word[cols[k]] += 1
        pos = np.full(vocab_size, -1, np.int64)
        K = 0
        for w in range(vocab_size):
            if per_word[w] >= threshold:
                pos[w] = K
                K += 1
        words = np.empty(K, np.int64)
        for w in range(vocab_size):
            if pos[w] >= 0:
                words[pos[w]] = w
        rows = np.empty(nnz, np.int64)
        flat = np.empty(nnz, np.int64)
        dense_x = np.zeros((B, K), np.float32)
        r_offsets = np.zeros(B + 1, np.int32)
        r_cols = np.empty(nnz, np.int32)
        t_offsets = np.zeros(vocab_size + 1, np.int32)
        n = 0
        for b in range(B):
            for k in range(offsets[b], offsets[b + 1]):
                w = cols[k]
                rows[k] = b
                flat[k] = b * vocab_size + w
                if pos[w] >= 0:
                    dense_x[b, pos[w]] = 1.0
                else:
                    r_cols[n] = w
                    t_offsets[w + 1] += 1
                    n += 1
            r_offsets[b + 1] = n
        t_rows = _rows_by_id(r_offsets, r_cols, t_offsets).astype(np.int32)
        return rows, flat, words, dense_x, r_offsets, r_cols[:n].copy(), t_offsets, t_rows

    @njit(cache=True, parallel=True, fastmath={"reassoc", "contract", "nsz"})
    def _mse_pass(z, b, offsets, cols, relu, row_sums):  # pragma: no cover - compiled
        B, V = z.shape
        for r in prange(B):
            row = z[r]
            s = 0.0
            for v in range(V):
                y = row[v] + b[v]
                if relu and y < 0:
                    y = np.float32(0.0)
                row[v] = y
                s += np.float64(y) * y
            t = 0.0
            for k in range(offsets[r], offsets[r + 1]):
                v = cols[k]
                y = row[v]
                t += 1.0 - 2.0 * y  # (y − 1)² − y²
                row[v] = y - 1.0 if (y > 0 or not relu) else y
            row_sums[r] = s + t


if HAVE_NUMBA:

    @njit(cache=True, nogil=True)
    def _gram_add(offsets, cols, values, M):  # pragma: no cover - compiled
        for b in range(offsets.shape[0] - 1):
            for p in range(offsets[b], offsets[b + 1]):
                i = cols[p]
                vi = np.float64(values[p])
                row = M[i]
                for q in range(p, offsets[b + 1]):
                    row[cols[q]] += vi * values[q]


# --------------------------------------------------------------------------------------------- entry points


def window_union(indices: np.ndarray, lo: np.ndarray, hi: np.ndarray, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """See :func:`window_union_reference` (same arrays)."""
    lo = np.ascontiguousarray(lo, dtype=np.int64)
    hi = np.ascontiguousarray(hi, dtype=np.int64)
    if HAVE_NUMBA:
        return _window_union(np.ascontiguousarray(indices), lo, hi, int(vocab_size))
    return window_union_reference(indices, lo, hi, vocab_size)


def split_batch(offsets: np.ndarray, cols: np.ndarray, vocab_size: int, threshold: int):
    """See :func:`split_batch_reference` (same arrays)."""
    if HAVE_NUMBA:
        return _split_batch(
            np.ascontiguousarray(offsets, dtype=np.int64),
            np.ascontiguousarray(cols, dtype=np.int64),
            int(vocab_size),
            int(threshold),
        )
    return split_batch_reference(offsets, cols, vocab_size, threshold)


def mse_pass(z, b, offsets, cols, relu: bool) -> float:
    """See :func:`mse_pass_reference`: one pass over z (torch CPU float32 tensors; offsets, cols int64), parallel
    over rows, each row's sum in a fixed order (the result does not depend on the thread count)."""
    if not HAVE_NUMBA:
        return mse_pass_reference(z, b, offsets, cols, relu)
    row_sums = np.empty(z.shape[0], np.float64)
    _mse_pass(z.numpy(), b.detach().numpy(), offsets.numpy(), cols.numpy(), bool(relu), row_sums)
    return float(row_sums.sum())


def gram_add(offsets: np.ndarray, cols: np.ndarray, values: np.ndarray, M: np.ndarray) -> None:
    """See :func:`gram_add_reference` (``M`` float64 [V, V], C-contiguous; same sums)."""
    if not HAVE_NUMBA:
        return gram_add_reference(offsets, cols, values, M)
    _gram_add(
        np.ascontiguousarray(offsets, dtype=np.int64),
        np.ascontiguousarray(cols, dtype=np.int64),
        np.ascontiguousarray(values, dtype=np.float64),
        M,
    )
