"""bows: Bag-of-Words Superposition.

A library for building binary bag-of-words windows of text, training tied autoencoders on them, and measuring the
geometry of the learned feature vectors (Prieto et al., "From Data Statistics to Feature Geometry: How Correlations
Shape Superposition", ICLR 2026). The Snakemake workflow around it only wires these functions together.
"""

__version__ = "0.1.0"


def load(source, revision=None, cache_dir=None, validate=False):
    """A shared grid of trained models: an export folder (``snakemake export``) or a Hugging Face hub repository
    (``owner/name``). Returns a :class:`bows.sharing.load.SharedGrid` (models, vocabulary, metric tables); see
    docs/sharing.md. Imported by name so that the rules' code hashes do not take in the sharing code."""
    import importlib

    sharing = importlib.import_module(f"{__name__}.sharing.load")
    return sharing.load(source, revision=revision, cache_dir=cache_dir, validate=validate)
