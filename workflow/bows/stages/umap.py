"""Rule metrics_umap: UMAP layout of the category words plus "Other" words (paper §6.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..metrics.clusters import umap_layout
from ..metrics.tables import save
from ..metrics.words import semantic_assignment
from .common import check_vocab_size, load_index


def run_umap(
    model: str, vocab: str, out: str, analysis: Mapping[str, Any], tag: str, config: Mapping[str, Any] | None = None
) -> None:
    """2-D layout of the category words' weight columns, one row per word."""
    from ..model import load_weights

    index, _ = load_index(vocab)
    W, _b = load_weights(model)
    check_vocab_size(W, index, model)
    seed = int(analysis["seed"])
    cats = semantic_assignment(index, n_other=int(analysis["umap_other_words"]), seed=seed)
    XY = umap_layout(W[:, cats["index"].to_numpy()].T, seed=seed)
    save(cats.assign(x=XY[:, 0], y=XY[:, 1]), out, config, {"model": model, "vocab": vocab})
