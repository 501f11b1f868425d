"""Synthetic BOWS (paper §7): binary data with a planted correlation structure (a ring, a figure-8, a sphere, or
none), many small tied autoencoders trained on it at once, and the geometry of their feature vectors.

    data      generators (circular, figure8, sphere, iid), split, covariance
    train     the tied autoencoder x̂ = act(WᵀWx + b) and a batched trainer for many models at once
    metrics   trace-normalised Gram, covariance alignment, circulant fit, antipodal score, eigen-share, …
    runs      the data and training jobs as functions of files
    variants  the data variants of the config, resolved and checked
    pipeline  the metric jobs as functions of files
    claims    the paper's claims (§7.5) as numbers and as claims of bows.claims
    summary   the summary job: every structure's tables in one, summary.json and the claims table
    stages    the stage modules of the data, training and metric rules (the figures: bows.figures.stages)

Example::

    from bows.config import defaults
    from bows.synthetic import DataSpec, generate, SynthModel, SynthTrainSettings, train_batched
    syn = defaults()["synthetic"]  # the schema's defaults (F = 12, 10,000 samples, 200 epochs, …)
    x = generate("circular", DataSpec.from_config(syn))
    models = [SynthModel("circular", "relu", 1.0, m, 42) for m in range(2, 13)]
    out = train_batched(x[:8000], models, SynthTrainSettings.from_config(syn))
"""

import importlib

#: public name → the submodule that defines it; submodules load on first use, so that a job importing one of them
#: (and its code hash) does not take in the others
_EXPORTS = {
    **dict.fromkeys(("STRUCTURES", "DataSpec", "covariance", "generate", "split_indices"), "data"),
    **dict.fromkeys(("synthetic_model_metrics", "normalized_gram"), "metrics"),
    **dict.fromkeys(
        ("SynthModel", "SynthTrainSettings", "model_seed", "train_batched", "train_reference", "train_sequential"),
        "train",
    ),
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
