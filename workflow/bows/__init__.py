"""bows: Bag-of-Words Superposition.

A library for building binary bag-of-words windows of text, training tied autoencoders on them, and measuring the
geometry of the learned feature vectors (Prieto et al., "From Data Statistics to Feature Geometry: How Correlations
Shape Superposition", ICLR 2026). The Snakemake workflow around it only wires these functions together.
"""

__version__ = "0.1.0"
