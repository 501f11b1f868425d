"""Model files: ``model.safetensors`` with tensors ``W`` float32 [L, V] and ``b`` float32 [V], and JSON metadata in
the header (V, L, and what the writer adds: variant, weight decay, seed, decay exposure, final losses, code and
config hashes). :func:`save_model` writes it, :func:`load_model` and :func:`load_weights` read it, and also read the
legacy ``model.pt`` archives (with ``torch.load(weights_only=True)``, never unpickled); a ``model.safetensors``
path whose folder holds only a legacy ``model.pt`` reads that file, saying so in the log.

Reading a safetensors model file needs numpy only: the analyses that read models do not load torch.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CheckpointError, ShapeError
from .tensor_files import is_torch_archive, read_tensors, safe_load, write_tensors

log = logging.getLogger("bows.model")

MODEL_FORMAT = "bows-model/1"  # the ``format`` entry of a model file's metadata
LEGACY_FILE = "model.pt"


def save_model(path: str | os.PathLike, W: Any, b: Any, metadata: dict[str, Any]) -> None:
    """Write ``W`` float32 [L, V] and ``b`` float32 [V] (tensors or arrays) and the JSON ``metadata`` as a
    safetensors file, atomically; V, L and the format are added to the metadata. Same content, same bytes."""
    import torch

    W = torch.as_tensor(W).detach().to("cpu", torch.float32)
    b = torch.as_tensor(b).detach().to("cpu", torch.float32)
    if W.ndim != 2 or b.shape != (W.shape[1],):
        raise ShapeError(f"W {tuple(W.shape)} and b {tuple(b.shape)} are not [L, V] and [V]", "pass W [L, V], b [V]")
    meta = {**metadata, "format": MODEL_FORMAT, "V": int(W.shape[1]), "L": int(W.shape[0])}
    for key in ("V", "L"):
        if key in metadata and metadata[key] != meta[key]:
            raise ShapeError(f"metadata {key} = {metadata[key]} but W has {key} = {meta[key]}", "fix the metadata")
    write_tensors(path, {"W": W, "b": b}, meta)


def save_weights(path: str | os.PathLike, W: Any, b: Any) -> None:
    """:func:`save_model` without metadata beyond V and L."""
    save_model(path, W, b, {})


def load_model(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(W float32 [L, V], b float32 [V], metadata) of a model file: safetensors, a legacy ``model.pt`` (metadata
    {}), or a training checkpoint. Raises :class:`CheckpointError` for a missing, empty, truncated, corrupted or
    unsafe file, or one without finite tensors W [L, V] and b [V]."""
    path = _existing(Path(path))
    if path.is_file() and is_torch_archive(path):
        tensors, metadata = _legacy_tensors(safe_load(path)), {}
    else:
        tensors, metadata = read_tensors(path, framework="np")
    if not {"W", "b"} <= set(tensors):
        raise CheckpointError(
            f"{path} is not a bows model file: expected tensors 'W' and 'b', found {sorted(tensors)}",
            "point at a model.safetensors written by the train_model rule",
        )
    W, b = (_array(tensors[k]) for k in ("W", "b"))
    if not (W is not None and b is not None and W.ndim == 2 and b.ndim == 1 and b.shape[0] == W.shape[1]):
        shapes = tuple(getattr(W, "shape", ())), tuple(getattr(b, "shape", ()))
        raise CheckpointError(
            f"{path}: W and b have shapes {shapes}, expected W [L, V] and b [V]", f"delete {path} and train again"
        )
    W_np, b_np = (np.ascontiguousarray(t, dtype=np.float32) for t in (W, b))
    if not (np.isfinite(W_np).all() and np.isfinite(b_np).all()):
        raise CheckpointError(
            f"{path}: the weights contain NaN or infinity (training diverged?)",
            "lower train.lr or check the data, then train again",
        )
    return W_np, b_np, metadata


def load_weights(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(W float32 [L, V], b float32 [V]) of a model file (see :func:`load_model`)."""
    W, b, _ = load_model(path)
    return W, b


def _existing(path: Path) -> Path:
    """``path``, or the legacy ``model.pt`` beside a missing ``.safetensors`` path (logged)."""
    legacy = path.with_name(LEGACY_FILE)
    if path.suffix == ".safetensors" and not path.exists() and legacy.is_file():
        log.warning("%s does not exist; reading the legacy model file %s beside it", path.name, legacy)
        return legacy
    return path


def _array(t: Any) -> np.ndarray | None:
    """A numpy array of a tensor read from a model file (a legacy archive holds torch tensors); None otherwise."""
    if isinstance(t, np.ndarray):
        return t
    if type(t).__module__.startswith("torch") and hasattr(t, "numpy"):
        return t.detach().float().cpu().numpy()
    return None


def _legacy_tensors(state: Any) -> dict[str, Any]:
    """W and b of a legacy archive: a model file {"W", "b"} or a training checkpoint {"model": {"E" = Wᵀ, "b"}}."""
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = dict(state["model"])
        E = _array(state.get("E"))
        if E is not None and "W" not in state:
            state["W"] = E.T
    return state if isinstance(state, dict) else {}
