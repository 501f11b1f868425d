"""Geometry metrics of BOWS autoencoders (paper §6, §6.8, §10) and of peer papers.

Pure functions on numpy arrays live in the topical modules (``geometry``, ``peers``, ``correlation``, ``r2``,
``mechanism``, ``clusters``, ``months``, ``subspace``, ``sweep``, ``criteria``); the rules' entry points live in
:mod:`bows.stages`. Typical notebook use::

    from bows.model import load_weights
    from bows.metrics import peers, geometry
    W, b = load_weights("results/.../model.safetensors")
    peers.peer_metrics(W)
"""

import importlib

__all__ = [
    "clusters",
    "correlation",
    "criteria",
    "data_stats",
    "geometry",
    "mechanism",
    "model_metrics",
    "months",
    "peers",
    "r2",
    "subspace",
    "sweep",
    "tables",
    "words",
]


def __getattr__(name: str):
    """Submodules load on first use, so that ``import bows.metrics`` stays cheap (no torch/scipy at import)."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
