"""The training data: which windows a model trains on, in which order, and their batches, built ahead of the step.

Randomness: epoch e visits the training windows in the permutation of ``numpy.random.default_rng([seed, e])``, so
the order depends only on (seed, epoch), never on a global RNG. Empty windows are dropped from a batch (as the
official collate does), so a batch can have fewer rows, or none (``None``: the step is skipped but the schedule
still advances).

Loader: background threads build the next batches while the current one trains (the numba kernels release the
GIL). With a CUDA device they also copy each batch to the GPU from pinned memory on a side stream, so the training
thread neither builds nor copies; the batch it receives is ready for its stream (an event wait on the GPU, no host
synchronisation).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from .errors import ShapeError
from .fast_step import Batch, DenseBatch, make_batch

__all__ = ["WindowSource", "TrainData", "load_train_data", "epoch_order", "build_batch", "batches", "loader_threads"]


class WindowSource(Protocol):
    def batch_csr(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class TrainData:
    """The windows one model trains on: ``windows`` (anything with ``batch_csr(idx)``, e.g.
    :class:`bows.windows.Windows`), the vocabulary size, the training and held-out window indices, the window
    encoding, an identity of the data for checkpoints (``data_id``) and the input files (for provenance)."""

    windows: WindowSource
    vocab_size: int
    train_idx: np.ndarray
    heldout_idx: np.ndarray
    encoding: str = "binary"
    data_id: str = ""
    inputs: Mapping[str, str] = field(default_factory=dict)

    def batches(self, idx: np.ndarray, batch_size: int, workers: int = 1, device: Any = None) -> Iterator[Any]:
        """The batches of the windows ``idx`` in order (see :func:`batches`)."""
        return batches(self.windows, idx, batch_size, self.vocab_size, workers, device, self.encoding)


def load_train_data(
    docs: str | os.PathLike, train_windows: str | os.PathLike, heldout_windows: str | os.PathLike, windows_cfg: Mapping
) -> TrainData:
    """The pipeline's data of a model: the train split's documents (CSR prefix ``{VOC}/docs/train``), windows of
    ``windows_cfg.group_size`` consecutive documents with ``windows_cfg.stride``, and the window index files."""
    from .encode import load_docs
    from .windows import Windows

    documents = load_docs(str(docs), mmap=True)
    windows = Windows(documents, int(windows_cfg["group_size"]), int(windows_cfg["stride"]))
    train_idx = np.asarray(np.load(train_windows, mmap_mode="r"))
    heldout_idx = np.asarray(np.load(heldout_windows, mmap_mode="r"))
    if len(train_idx) and int(np.max(train_idx)) >= len(windows):
        raise ShapeError(
            f"{train_windows} indexes window {int(np.max(train_idx))} but the documents give only {len(windows)} "
            "windows",
            "rerun the windows stage (snakemake windows) for this corpus",
        )
    inputs = {
        "docs_indptr": f"{docs}.indptr.npy",
        "docs_indices": f"{docs}.indices.npy",
        "train_windows": str(train_windows),
        "heldout_windows": str(heldout_windows),
    }
    data_id = f"{documents.n_docs}:{documents.vocab_size}:{len(train_idx)}:{len(heldout_idx)}"
    encoding = str(windows_cfg["encoding"])
    return TrainData(windows, documents.vocab_size, train_idx, heldout_idx, encoding, data_id, inputs)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of the ``n`` training windows in ``epoch``: a permutation fixed by (seed, epoch)."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def _drop_empty(offsets: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts = np.diff(offsets)
    if counts.all():
        return offsets, cols
    kept = counts[counts > 0]
    out = np.zeros(kept.size + 1, dtype=np.int64)
    np.cumsum(kept, out=out[1:])
    return out, cols


def build_batch(windows: WindowSource, idx: np.ndarray, vocab_size: int | None = None, encoding: str = "binary") -> Any:
    """The batch of the windows ``idx``, empty windows dropped: CSR (offsets, cols), or a CPU
    :class:`~bows.fast_step.Batch` when ``vocab_size`` is given (``None`` if every window is empty). In the
    ``counts`` encoding (``vocab_size`` required) a :class:`~bows.fast_step.DenseBatch` of the per-window counts."""
    if encoding == "counts":
        offsets, cols, values = windows.batch_counts(np.asarray(idx, dtype=np.int64))
        offsets, cols = _drop_empty(offsets, cols)
        return DenseBatch.from_csr(offsets, cols, values, vocab_size) if len(offsets) > 1 else None
    offsets, cols = windows.batch_csr(np.asarray(idx, dtype=np.int64))
    offsets, cols = _drop_empty(np.asarray(offsets, dtype=np.int64), np.asarray(cols, dtype=np.int64))
    if vocab_size is None:
        return offsets, cols
    return make_batch(offsets, cols, vocab_size) if len(offsets) > 1 else None


def batches(
    windows: WindowSource,
    idx: np.ndarray,
    batch_size: int,
    vocab_size: int | None = None,
    workers: int = 1,
    device: torch.device | str | None = None,
    encoding: str = "binary",
) -> Iterator[Any]:
    """:func:`build_batch` of the windows ``idx`` in order, ``batch_size`` at a time, built by ``workers`` threads
    ahead of the consumer (on CUDA also copied to ``device``; see the module docstring)."""
    starts = range(0, len(idx), batch_size)
    if len(starts) == 0:
        return
    workers = max(1, int(workers))
    stream = _copy_stream(device) if vocab_size is not None else None

    def load(s: int) -> Any:
        return _to_device(build_batch(windows, idx[s : s + batch_size], vocab_size, encoding), device, stream)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bows-batches") as pool:
        pending = deque(pool.submit(load, s) for s in starts[:workers])
        for k in range(len(starts)):
            item = pending.popleft().result()
            if k + workers < len(starts):
                pending.append(pool.submit(load, starts[k + workers]))
            yield _ready(item, device)


def loader_threads(configured: int | None, threads: int, device: torch.device | str) -> int:
    """Batch-building threads: ``configured``, else 1 on the CPU (the step uses the cores) and the job's
    ``threads`` on a GPU (the step waits on the loader there)."""
    if configured:
        return int(configured)
    return max(1, int(threads)) if torch.device(device).type == "cuda" else 1


def _copy_stream(device: torch.device | str | None) -> Any:
    """A CUDA side stream for the batches' host-to-device copies (None off CUDA)."""
    if device is None or torch.device(device).type != "cuda":
        return None
    return torch.cuda.Stream(device=torch.device(device))


def _to_device(batch: Any, device: torch.device | str | None, stream: Any) -> Any:
    """(batch on the GPU, the event its copy records) on ``stream``; the batch itself when there is no stream."""
    if stream is None or batch is None:
        return batch
    with torch.cuda.stream(stream):
        out = batch.to(device)  # pinned buffers, non_blocking copies
        event = torch.cuda.Event()
        event.record(stream)
    return out, event


def _ready(item: Any, device: torch.device | str | None) -> Any:
    """A loaded batch, usable on the current stream: wait for its copy there (on the GPU, not the host)."""
    if not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[1], torch.cuda.Event):
        return item
    batch, event = item
    current = torch.cuda.current_stream(torch.device(device))
    current.wait_event(event)
    if isinstance(batch, (Batch, DenseBatch)):
        for t in batch.tensors():
            t.record_stream(current)  # the allocator keeps the memory until the step's kernels are done with it
    return batch
