"""Virtual windows: the training samples of paper §3.4, never materialised.

With group size G and stride S, window w of a split with N documents is

    x_w = ⋃_{i = wS}^{wS+G-1} d_i        (sorted unique ids),   w = 0, 1, …, ⌊(N − G)/S⌋

so there are max(0, ⌊(N − G)/S⌋ + 1) windows (N − G + 1 with stride 1). Because the documents of a window are
consecutive, its raw ids are the contiguous slice ``indices[indptr[wS] : indptr[wS+G]]``; a batch is read from these
slices, de-duplicated and sorted row by row in one compiled pass (:mod:`bows.kernels`), with no per-window Python.

Held-out windows for training-time validation (:func:`split_windows`) are contiguous blocks; every training window
within ⌈G/S⌉ − 1 positions of a block would share a record with it and is dropped, so training and held-out
windows share no record (this fixes the leak of the official random split, paper §12.8).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .encode import Docs, load_docs
from .errors import CorpusError, ShapeError
from .io import provenance, save_npy, write_json, write_sidecar
from .kernels import gather_ranges, window_union

__all__ = ["Windows", "n_windows", "split_windows", "load_window_split", "index_windows"]

log = logging.getLogger("bows.windows")


def n_windows(n_docs: int, group_size: int, stride: int = 1) -> int:
    """max(0, ⌊(N − G)/S⌋ + 1)."""
    if n_docs < group_size:
        return 0
    return (n_docs - group_size) // stride + 1


class Windows:
    """The windows of one split, kept virtual over its :class:`~bows.encode.Docs`."""

    def __init__(self, docs: Docs, group_size: int, stride: int = 1):
        if group_size < 1 or stride < 1:
            raise ShapeError(
                f"group_size={group_size} and stride={stride} must be at least 1",
                "set windows.group_size and windows.stride to positive integers",
            )
        self.docs = docs
        self.group_size = int(group_size)
        self.stride = int(stride)
        self.vocab_size = int(docs.vocab_size)
        self._indptr = np.asarray(docs.indptr, dtype=np.int64)
        self._n = n_windows(docs.n_docs, self.group_size, self.stride)

    def __len__(self) -> int:
        return self._n

    def _bounds(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self._n):
            raise IndexError(f"window indices must lie in [0, {self._n}), got [{idx.min()}, {idx.max()}]")
        first = idx * self.stride
        return self._indptr[first], self._indptr[first + self.group_size]

    def ids(self, w: int) -> np.ndarray:
        """Sorted unique int64 ids of window ``w``."""
        lo, hi = self._bounds(np.array([w]))
        return np.unique(np.asarray(self.docs.indices[lo[0] : hi[0]], dtype=np.int64))

    def _gather(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Raw (row, id) pairs of a batch, with duplicates: one concatenated gather of contiguous slices."""
        lo, hi = self._bounds(idx)
        return *gather_ranges(self.docs.indices, lo, hi), len(lo)

    def batch_csr(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CSR of a batch: ``offsets`` int64 [B+1] and ``cols`` int64, sorted unique ids per row.

        The windows' id ranges are de-duplicated and sorted row by row in one compiled pass
        (:func:`bows.kernels.window_union`; a numpy fallback computes the same arrays).
        """
        lo, hi = self._bounds(idx)
        return window_union(np.asarray(self.docs.indices), lo, hi, self.vocab_size)

    def dense_array(self, idx, dtype=np.float32) -> np.ndarray:
        """Multi-hot numpy array [B, V] (the same entries as :meth:`dense`, without torch)."""
        rows, cols, B = self._gather(idx)
        out = np.zeros((B, self.vocab_size), dtype=dtype)
        out[rows, cols] = 1
        return out

    def batch_counts(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR of a batch in the ``counts`` encoding: ``offsets`` int64 [B+1], ``cols`` int64 (sorted per row) and
        ``values`` float32, the number of the window's G records that contain the word (records hold unique ids, so
        this is the multiplicity of the id in the window's slice of the same CSR)."""
        rows, cols, B = self._gather(idx)
        key, counts = np.unique(rows * self.vocab_size + cols, return_counts=True)
        r = key // self.vocab_size
        offsets = np.zeros(B + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=B), out=offsets[1:])
        return offsets, key - r * self.vocab_size, counts.astype(np.float32)

    def batch_values(self, idx: np.ndarray, encoding: str = "binary") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR (offsets, cols, values) of a batch in ``encoding`` (``binary``: values 1; ``counts``: see
        :meth:`batch_counts`)."""
        if encoding == "counts":
            return self.batch_counts(idx)
        if encoding != "binary":
            raise ShapeError(f"unknown window encoding {encoding!r}", "set windows.encoding to binary or counts")
        offsets, cols = self.batch_csr(idx)
        return offsets, cols, np.ones(len(cols), dtype=np.float32)

    def dense(self, idx, dtype=None, device=None):
        """Multi-hot tensor [B, V]: entry (b, j) = 1 iff id j occurs in window idx[b]."""
        import torch

        rows, cols, B = self._gather(idx)
        out = torch.zeros((B, self.vocab_size), dtype=dtype or torch.float32, device=device)
        if rows.size:
            r = torch.from_numpy(rows).to(out.device)
            c = torch.from_numpy(cols).to(out.device)
            out.index_put_((r, c), torch.ones((), dtype=out.dtype, device=out.device))
        return out

    def mean_ids(self, sample: int | None = 20000, seed: int = 0) -> float:
        """Mean number of unique ids per window (over a seeded sample of at most ``sample`` windows)."""
        if self._n == 0:
            return 0.0
        idx = np.arange(self._n)
        if sample is not None and self._n > sample:
            idx = np.sort(np.random.default_rng(seed).choice(self._n, size=sample, replace=False))
        total = 0
        for start in range(0, len(idx), 4096):
            offsets, _ = self.batch_csr(idx[start : start + 4096])
            total += int(offsets[-1])
        return total / len(idx)


def split_windows(
    n: int, group_size: int, stride: int, fraction: float, blocks: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out window indices out of ``n`` windows.

    The range [0, n) is cut into ``blocks`` equal segments; each holds one held-out block of
    b = max(1, round(fraction·n / blocks)) consecutive windows at a seeded offset, plus a margin of
    g = ⌈G/S⌉ − 1 windows on each side that neither set uses (windows closer than g to a held-out window share a
    record with it). Returns (train, heldout), both sorted int64. ``fraction = 0`` holds nothing out.
    """
    all_idx = np.arange(n, dtype=np.int64)
    if fraction <= 0 or n == 0:
        return all_idx, np.zeros(0, np.int64)
    gap = math.ceil(group_size / stride) - 1
    b = max(1, round(fraction * n / blocks))
    edges = np.linspace(0, n, blocks + 1).astype(np.int64)
    seg = int(np.min(np.diff(edges)))
    if seg < b + 2 * gap + 1:
        raise CorpusError(
            f"{n} training windows are too few for {blocks} held-out blocks of {b} windows with {gap}-window margins",
            "lower windows.heldout_blocks or windows.heldout_fraction, or use a larger corpus",
        )
    rng = np.random.default_rng(seed)
    # block start within its segment, leaving room for the margins inside the segment
    offs = rng.integers(gap, seg - b - gap + 1, size=blocks)
    starts = edges[:-1] + offs
    held = (starts[:, None] + np.arange(b)[None, :]).reshape(-1)
    mask = np.zeros(n, dtype=np.int8)  # 0 train, 1 held out, 2 margin
    lo = np.maximum(starts - gap, 0)
    hi = np.minimum(starts + b + gap, n)
    for a, z in zip(lo, hi):  # one slice per block (blocks ≤ a few dozen)
        mask[a:z] = 2
    mask[held] = 1
    return all_idx[mask == 0], all_idx[mask == 1]


def load_window_split(win_dir: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, heldout_idx): int64 window indices into the train split's windows."""
    win_dir = Path(win_dir)
    out = []
    for name in ("train_windows.npy", "heldout_windows.npy"):
        path = win_dir / name
        if not path.is_file():
            raise CorpusError(f"window index {path} does not exist", "build it with `snakemake windows`")
        out.append(np.load(path).astype(np.int64, copy=False))
    return out[0], out[1]


def index_windows(
    docs: Mapping[str, str | os.PathLike], out_dir: str | os.PathLike, cfg: Mapping[str, Any]
) -> dict[str, Any]:
    """Rule ``index_windows``: write train/held-out window indices and ``windows.json``.

    ``docs`` maps split name → docs prefix (``train`` required); ``cfg`` is the ``windows`` config section.
    """
    out_dir = Path(out_dir)
    G, S = int(cfg["group_size"]), int(cfg["stride"])
    splits = {name: load_docs(prefix) for name, prefix in docs.items()}
    train = Windows(splits["train"], G, S)
    if len(train) == 0:
        raise CorpusError(
            f"the train split has {splits['train'].n_docs} records, fewer than group_size={G}",
            "lower windows.group_size or use a larger corpus",
        )
    tr, ho = split_windows(
        len(train), G, S, float(cfg["heldout_fraction"]), int(cfg["heldout_blocks"]), int(cfg["seed"])
    )
    counts = {name: len(Windows(d, G, S)) for name, d in splits.items()}
    mean_ids = {name: Windows(d, G, S).mean_ids(sample=5000) for name, d in splits.items()}
    docs_bytes = splits["train"].nbytes
    index_bytes = 8 * (len(tr) + len(ho))
    stats = {
        "group_size": G,
        "stride": S,
        "vocab_size": train.vocab_size,
        "windows": counts,
        "records": {name: d.n_docs for name, d in splits.items()},
        "train_windows": int(len(tr)),
        "heldout_windows": int(len(ho)),
        "margin_windows": int(len(train) - len(tr) - len(ho)),
        "mean_ids_per_window": mean_ids,
        "bytes_docs": docs_bytes,
        "bytes_index": index_bytes,
        "bytes_per_train_window": (docs_bytes + index_bytes) / len(train),
        "official_bytes_per_window_int64": 8 * (mean_ids["train"] + 1),
    }
    save_npy(out_dir / "train_windows.npy", tr)
    save_npy(out_dir / "heldout_windows.npy", ho)
    for name in ("train_windows.npy", "heldout_windows.npy"):
        write_sidecar(out_dir / name, {"windows": dict(cfg)}, hash_inputs=False)
    write_json(
        out_dir / "windows.json",
        {**stats, "provenance": provenance({"windows": dict(cfg)}, {k: str(v) + ".json" for k, v in docs.items()})},
    )
    log.info(
        "windows: %s; train %d, held out %d, %.1f ids/window, %.1f bytes/window",
        counts,
        len(tr),
        len(ho),
        mean_ids["train"],
        stats["bytes_per_train_window"],
    )
    return stats
