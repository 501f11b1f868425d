"""Rule metrics_umap: UMAP layout of the category words plus "Other" words (paper §6.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..metrics.tables import save
from ..stage import Job, Section, Stage

# the analysis settings of a per-model job (thresholds and model choices only matter downstream)
STAGE = Stage(__name__, tables=("layout",), sections=(Section("analysis", without=("thresholds", "models")),))


def run_umap(model: str, vocab: str, out: str, config: Mapping[str, Any]) -> None:
    """2-D layout of the category words' weight columns of the model file ``model``, one row per word. ``config``
    holds the ``analysis`` section (:data:`STAGE`; a whole validated config also serves)."""
    from ..metrics.clusters import umap_layout
    from ..metrics.words import semantic_assignment
    from ..model_files import load_weights
    from .common import check_vocab_size, load_index

    config = STAGE.config_slice(config)
    analysis = config["analysis"]
    index, _ = load_index(vocab)
    W, _b = load_weights(model)
    check_vocab_size(W, index, model)
    seed = int(analysis["seed"])
    words = semantic_assignment(index, n_other=int(analysis["umap_other_words"]), seed=seed)
    layout = umap_layout(W[:, words["index"].to_numpy()].T, seed=seed)
    save(words.assign(x=layout[:, 0], y=layout[:, 1]), out, config, {"model": model, "vocab": vocab})


def run(job: Job) -> None:
    """Rule metrics_umap: the layout of the grid model the wildcards name."""
    run_umap(model=job.input.model, vocab=job.input.vocab, out=job.output.layout, config=job.config)
