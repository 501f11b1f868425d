"""Value-coding features (paper §1.2, Table 1): rings and maps that need neither superposition nor correlation.

A value-coding feature encodes a continuous variable linearly; k of them span a k-dimensional value space, and the
geometry lives there. Two tasks, each trained, probed for its value space, then evaluated with that space kept or
removed from the learned embeddings before the frozen network:

* **City map** (the official ``city_map_pipeline.py``, re-implemented from its description): the US cities above a
  population threshold are tokens; a pair (i, j) is classified into the 8 compass directions of the initial
  great-circle bearing from i to j by ``Embedding(N, 50)`` → concat → MLP. A ridge probe maps each embedding to
  (lat, lon); its 2-d coefficient space is the value space. The probe's R² on held-out cities is reported (the
  official code does not compute it).
* **Modular addition** (Table 1 "Key-freq"; no official code exists, so this is a re-design): tokens a, b ∈ Z_p,
  label (a + b) mod p, the same embedding + MLP architecture, trained full-batch with AdamW and weight decay until it
  generalises. The value space is spanned by the key Fourier frequencies of the embedding: the smallest set of
  frequencies holding ``power_share`` of the non-constant Fourier power, two directions (cos, sin) per frequency.

Ablations, applied to both tokens' embeddings before the frozen MLP (U an orthonormal basis of the value space):
``keep`` (VC+): z ↦ UUᵀz + mean_c[(I − UUᵀ)e_c]; ``drop`` (VC−): z ↦ z − UUᵀz; ``drop_renorm``: the same rescaled
to ‖z‖ (the paper does not say which drop it used; both are reported).

Every random choice (pairs, splits, init, batch order) comes from the configured seed, so results never depend on
the global RNGs.

The rules run the three steps through the stage modules of :mod:`.stages`; the figures are drawn by
:mod:`bows.figures.stages.value_coding`.
"""

import importlib


def __getattr__(name: str):
    """The public names of :mod:`.tasks` (its ``__all__``, the one list of them), loaded on first use: the stage
    modules below import this package when the workflow is parsed, which must not load torch."""
    if not name.startswith("_"):
        tasks = importlib.import_module(f"{__name__}.tasks")
        if name in tasks.__all__:
            return getattr(tasks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
