"""Files the SAE steps share: the provenance parameters of their outputs and the activations archive."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CheckpointError

__all__ = ["provenance_params", "load_activations"]


def provenance_params(sae: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The parameters recorded in the provenance of every SAE output: the ``sae`` section (and ``extra``)."""
    return {"sae": dict(sae), **extra}


def load_activations(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an ``activations.npz`` (words, frequency, h_train, h_heldout, truth)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as err:
        raise CheckpointError(
            f"cannot read SAE activations {path}: {err}", "delete the file and rerun `snakemake sae`"
        ) from None
