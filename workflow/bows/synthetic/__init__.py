"""Synthetic BOWS (paper §7): binary data with a planted correlation structure (a ring, a figure-8, a sphere, or
none), many small tied autoencoders trained on it at once, and the geometry of their feature vectors.

    data      generators (circular, figure8, sphere, iid), split, covariance
    train     the tied autoencoder x̂ = act(WᵀWx + b) and a batched trainer for many models at once
    metrics   trace-normalised Gram, covariance alignment, circulant fit, antipodal score, eigen-share, …
    pipeline  the workflow steps as functions of files

Example::

    from bows.synthetic import DataSpec, generate, SynthModel, SynthTrainSettings, train_batched
    x = generate("circular", DataSpec(features=12))
    models = [SynthModel("circular", "relu", 1.0, m, 42) for m in range(2, 13)]
    out = train_batched(x[:8000], models, SynthTrainSettings(epochs=200))
"""

from .data import STRUCTURES, DataSpec, covariance, generate, split_indices
from .metrics import synthetic_model_metrics, normalized_gram
from .train import SynthModel, SynthTrainSettings, model_seed, train_batched, train_reference, train_sequential

__all__ = ["STRUCTURES", "DataSpec", "generate", "split_indices", "covariance", "SynthModel", "SynthTrainSettings",
           "model_seed", "train_batched", "train_sequential", "train_reference",
           "synthetic_model_metrics", "normalized_gram"]
