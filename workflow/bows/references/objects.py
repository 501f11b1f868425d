"""The objects compared: every layer of every reference, the data's rows, every model of the grid, and the controls.

Each object gives the analysed words (in one order) a vector, or NaN when it has none:

- ``reference``: a layer of a reference representation (:mod:`bows.references.store`);
- ``data``: the data's PPMI and phi rows (:mod:`bows.metrics.context_rows`), objects ``data/ppmi``, ``data/phi``;
- ``relu`` / ``linear`` / ``pca``: a grid model's word columns of W (its tag names it);
- ``control``: ``control/init`` the untrained initialisation of the months model (the same seeded draw as its
  training's first step, :func:`bows.model.init_weights`), and ``control/unigram`` the unigram-frequency geometry:
  the one coordinate log f_i (f = the word's count in the vocabulary) with dissimilarity |log f_i − log f_j|.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..grid import ModelSpec
from ..metrics.geometry import has_vector
from .store import Representation

__all__ = [
    "CompareObject",
    "representation_objects",
    "model_object",
    "init_object",
    "unigram_object",
    "UNIGRAM",
    "INIT",
    "load_objects",
]

UNIGRAM = "control/unigram"
INIT = "control/init"


@dataclass
class CompareObject:
    """Vectors of the analysed words (rows; NaN: none) and, for the unigram control, its own dissimilarities."""

    name: str
    kind: str
    layer: str
    layer_index: int
    E: np.ndarray
    dissimilarity: np.ndarray | None = None

    @cached_property
    def available(self) -> np.ndarray:
        """Words with a vector (finite; non-zero, except for a geometry given by its dissimilarities)."""
        E = np.asarray(self.E, dtype=np.float64)
        if self.dissimilarity is not None:
            return np.isfinite(E).all(axis=1)
        return has_vector(E)


def representation_objects(rep: Representation, kind: str = "reference", prefix: str = "") -> list[CompareObject]:
    """One object per layer of ``rep`` (named ``rep.name``, or ``prefix + layer`` for the data rows)."""
    out = []
    for k, layer in enumerate(rep.layers):
        name = f"{prefix}{layer}" if prefix else rep.name
        out.append(CompareObject(name, kind, "" if prefix else layer, int(rep.layer_index[k]), rep.layer(k)))
    return out


def _columns(W: np.ndarray, vocab_ids: np.ndarray) -> np.ndarray:
    E = np.full((len(vocab_ids), W.shape[0]), np.nan)
    ok = vocab_ids >= 0
    E[ok] = np.asarray(W[:, vocab_ids[ok]], dtype=np.float64).T
    return E


def model_object(path: str, spec: ModelSpec, vocab_ids: np.ndarray) -> CompareObject:
    """A trained (or PCA) model's word columns of W."""
    from ..model_files import load_weights

    W, _ = load_weights(path)
    return CompareObject(spec.tag, spec.variant, "", 0, _columns(W, np.asarray(vocab_ids, dtype=np.int64)))


def init_object(spec: ModelSpec, vocab_size: int, vocab_ids: np.ndarray) -> CompareObject:
    """The untrained initialisation of ``spec``: W drawn as training draws it from the model's seed."""
    import torch

    from ..model import init_weights

    W = init_weights(spec.latent, vocab_size, torch.Generator().manual_seed(spec.seed)).numpy()
    return CompareObject(INIT, "control", "", 0, _columns(W, np.asarray(vocab_ids, dtype=np.int64)))


def unigram_object(counts: np.ndarray, vocab_ids: Sequence[int]) -> CompareObject:
    """log f per word (NaN outside the vocabulary or at count 0) and the dissimilarities |log f_i − log f_j|."""
    vocab_ids = np.asarray(vocab_ids, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    logf = np.full(len(vocab_ids), np.nan)
    ok = vocab_ids >= 0
    c = counts[vocab_ids[ok]]
    logf[ok] = np.where(c > 0, np.log(np.where(c > 0, c, 1.0)), np.nan)
    D = np.abs(logf[:, None] - logf[None, :])
    return CompareObject(UNIGRAM, "control", "", 0, logf[:, None], D)


def load_objects(
    references: Sequence[str],
    data: str,
    models: Sequence[str],
    grid: Sequence[ModelSpec],
    vocab: str,
    months_model: ModelSpec | None,
    controls: bool = True,
) -> tuple[list[str], list[CompareObject], dict[str, Representation]]:
    """(analysed words, every object, the references by name) from the stage files; the files must agree on the
    analysed words (they all come from the same vocabulary and config)."""
    from ..errors import CheckpointError
    from ..vocab import read_vocab
    from .store import load_representation

    reps = {}
    for path in references:
        rep = load_representation(path)
        reps[rep.name] = rep
    rows = load_representation(data)
    words = rows.words
    for name, rep in reps.items():
        if rep.words != words:
            raise CheckpointError(
                f"reference {name} represents other words than the data rows ({len(rep.words)} vs {len(words)})",
                "rerun the references stage on this vocabulary (delete its representations.npz)",
            )
    vocab_df = read_vocab(vocab).sort_values("index")
    index = {w: i for i, w in zip(vocab_df["index"], vocab_df["word"].astype(str))}
    vocab_ids = np.array([index.get(w, -1) for w in words], dtype=np.int64)
    objects: list[CompareObject] = []
    for rep in reps.values():
        objects += representation_objects(rep)
    objects += representation_objects(rows, kind="data", prefix="data/")
    for path, spec in zip(models, grid):
        objects.append(model_object(path, spec, vocab_ids))
    if controls and months_model is not None:
        objects.append(init_object(months_model, len(vocab_df), vocab_ids))
    if controls:
        objects.append(unigram_object(vocab_df["count"].to_numpy(), vocab_ids))
    return words, objects, reps
