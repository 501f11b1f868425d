"""Files of named tensors with JSON metadata: safetensors, which bows writes, and the legacy torch files it reads.

A safetensors file is an 8-byte header length, a JSON header (dtype, shape and byte range of every tensor, and a
string map ``__metadata__``), then the tensors' raw little-endian bytes: reading one runs no code. bows keeps its
metadata as one JSON object (keys sorted) under the single key ``bows``: the safetensors library writes the metadata
map in an arbitrary order, so with several keys equal content would not give equal bytes.

Legacy files (``model.pt``, ``state.pt``: torch zip archives of tensors and plain data) are read with
``torch.load(weights_only=True)``, which refuses anything but tensors and plain data, and are never written for
models any more; :func:`save_state` still writes such archives for the SAE files.
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError, safe_open

from .errors import CheckpointError
from .io import atomic_path

if TYPE_CHECKING:
    import torch

__all__ = ["METADATA_KEY", "write_tensors", "read_tensors", "is_torch_archive", "save_state", "safe_load"]

METADATA_KEY = "bows"
_ZIP_MAGIC = b"PK\x03\x04"


def write_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
    """Write ``tensors`` (contiguous CPU copies) and the JSON ``metadata`` as one safetensors file, atomically;
    equal content gives byte-identical files."""
    from safetensors.torch import save_file

    plain = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    header = {METADATA_KEY: json.dumps(metadata, sort_keys=True, allow_nan=True)}
    with atomic_path(path) as tmp:
        save_file(plain, tmp, metadata=header)  # streams from the tensors' memory: no copy of the file in memory


def is_torch_archive(path: str | os.PathLike) -> bool:
    """Whether ``path`` starts like a torch zip archive (a legacy ``.pt`` file)."""
    with open(path, "rb") as fh:
        return fh.read(4) == _ZIP_MAGIC


def _check_exists(path: Path, what: str) -> None:
    if not path.is_file():
        raise CheckpointError(
            f"{what} {path} does not exist",
            "train it first (snakemake train) or check the latent/weight decay/seed in the path",
        )
    if path.stat().st_size == 0:
        raise CheckpointError(
            f"{what} {path} is empty (an interrupted write?)", f"delete {path} and train the model again"
        )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def read_tensors(
    path: str | os.PathLike, what: str = "model file", framework: str = "pt"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(tensors, metadata) of a safetensors file written by :func:`write_tensors`, with one clear
    :class:`CheckpointError` per way of failing (missing, empty, truncated, corrupted, not a safetensors file). The
    tensors are torch tensors (``framework="pt"``) or numpy arrays (``"np"``, which does not load torch)."""
    path = Path(path)
    _check_exists(path, what)
    try:
        with safe_open(str(path), framework=framework, device="cpu") as fh:
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}
            header = fh.metadata() or {}
        metadata = json.loads(header[METADATA_KEY]) if METADATA_KEY in header else {}
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"{what} {path} is truncated or corrupted, or not a safetensors file ({_first_line(err)})",
            f"delete {path} and train the model again",
        ) from None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{what} {path}: its metadata is not a JSON object", f"delete {path} and train again")
    return tensors, metadata


def save_state(path: str | os.PathLike, state: Any) -> None:
    """``torch.save`` atomically, through a file handle: the archive's inner name is then the fixed "archive" rather
    than the (random) temporary file name, so equal content gives byte-identical files."""
    import torch

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        torch.save(state, fh)


def safe_load(path: str | os.PathLike, what: str = "model file") -> Any:
    """``torch.load(path, weights_only=True)`` of a torch archive, with one clear :class:`CheckpointError` per way of
    failing; code in a crafted pickle is refused, never run."""
    path = Path(path)
    _check_exists(path, what)
    if not is_torch_archive(path):
        raise CheckpointError(
            f"{what} {path} is not a PyTorch archive: corrupted, or not written by bows",
            f"delete {path} and rerun snakemake to train the model again",
        )
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{what} {path} holds objects other than tensors and plain data, refused by the safe loader "
            f"(weights_only=True): {_first_line(err)}",
            "use a file written by bows (tensors only); never load files from untrusted sources unsafely",
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as err:
        raise CheckpointError(
            f"{what} {path} is truncated or corrupted ({type(err).__name__}: {_first_line(err)})",
            f"delete {path} and train the model again",
        ) from None
