"""The representation file of a reference: one matrix per layer over the analysed words, without pickle.

``representations.npz`` holds ``X`` float32 [layers, words, d] (a NaN row: the word has no vector at that layer),
``words`` (the analysed words, as in the BOWS vocabulary), ``layers`` (names: ``embedding``, ``layer 0`` …, or
``vectors``) and ``layer_index`` (−1 for the token embedding, k for hidden state k, 0 for word vectors). The words
table beside it says, per word, what was looked up, how many tokens and contexts it had and why a row is NaN.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import CheckpointError
from ..io import atomic_path
from ..metrics.geometry import has_vector

__all__ = ["Representation", "save_representation", "load_representation"]


@dataclass
class Representation:
    """Vectors of ``words`` at each of ``layers`` (``X[l]`` is [words, d]), named ``name``."""

    name: str
    words: list[str]
    layers: list[str]
    layer_index: np.ndarray
    X: np.ndarray

    def layer(self, k: int) -> np.ndarray:
        return np.asarray(self.X[k], dtype=np.float64)

    def available(self, k: int) -> np.ndarray:
        """Words with a vector at layer ``k`` (:func:`bows.metrics.geometry.has_vector`)."""
        return has_vector(self.layer(k))


def save_representation(path: str | os.PathLike, rep: Representation) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            X=np.asarray(rep.X, dtype=np.float32),
            words=np.asarray(rep.words, dtype=str),
            layers=np.asarray(rep.layers, dtype=str),
            layer_index=np.asarray(rep.layer_index, dtype=np.int64),
            name=np.asarray(rep.name, dtype=str),
        )


def load_representation(path: str | os.PathLike) -> Representation:
    try:
        with np.load(path, allow_pickle=False) as z:
            return Representation(
                str(z["name"]),
                [str(w) for w in z["words"]],
                [str(x) for x in z["layers"]],
                z["layer_index"].astype(np.int64),
                z["X"],
            )
    except (OSError, KeyError, ValueError) as err:
        raise CheckpointError(
            f"{path} is not a readable representation file ({err})",
            "delete it and rerun the references stage (snakemake references)",
        ) from None
