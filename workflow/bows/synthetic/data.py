"""Synthetic bag-of-words data with a planted correlation structure (paper §7.1).

Every sample is a binary vector x ∈ {0,1}^F. Feature j has an anchor a_j and sample i a latent vector u_i, and the
features are drawn independently given the latent:

    x_ij ~ Bernoulli(p_ij),   p_ij = sigmoid(κ ⟨a_j, u_i⟩ + β).

Structures:

* ``circular``: a_j = (cos θ_j, sin θ_j), θ_j = 2πj/F; u_i = (cos φ_i, sin φ_i) with φ_i = 2π(i mod F)/F (+ N(0, σ²)).
  Features close on the ring co-occur, so the covariance is circulant.
* ``figure8``: a_j = (sin θ_j, sin 2θ_j); u_i = (sin φ_i, sin 2φ_i) (a Lissajous figure-8).
* ``sphere``: a_j on a Fibonacci lattice of S²; u_i uniform on S² (with σ > 0: plus N(0, σ² I₃), renormalised).
* ``iid``: x_ij ~ Bernoulli(p) independently, with p = ``iid_p`` (or, when ``iid_p`` is None, the mean activation of
  the circular data generated with the same parameters: explicit, never dependent on the order of generation).

With the official command-line defaults (κ = 10, β = 0, σ = 0) the data are **dense**: β = 0 puts every feature at
p = 1/2 on average, and with σ = 0 the circular and figure-8 latents take only F distinct values, cycled in sample
order. These are the defaults here too, so that the figures compare with the paper's; set β < 0 for sparse data.

The official code draws one sample at a time from ``RandomState(seed)``; here one vectorised draw per dataset is made
from a ``numpy.random.Generator`` seeded by (data_seed, structure), so the numbers differ draw by draw but follow
the same distribution, and two structures never share random draws.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConfigError

__all__ = [
    "STRUCTURES",
    "DataSpec",
    "anchors",
    "latents",
    "activation_probabilities",
    "generate",
    "split_indices",
    "covariance",
    "data_stats",
]

STRUCTURES = ("circular", "figure8", "sphere", "iid")


@dataclass(frozen=True)
class DataSpec:
    """Parameters of one synthetic dataset (the ``synthetic`` config section's data keys; their defaults live in the
    config schema only: ``DataSpec.from_config(bows.config.defaults()["synthetic"])``)."""

    features: int
    samples: int
    kappa: float
    beta: float
    sigma: float
    iid_p: float | None
    data_seed: int

    @classmethod
    def from_config(cls, syn: dict) -> DataSpec:
        """The data keys of a validated ``synthetic`` section (or of one resolved variant)."""
        return cls(
            features=int(syn["features"]),
            samples=int(syn["samples"]),
            kappa=float(syn["kappa"]),
            beta=float(syn["beta"]),
            sigma=float(syn["sigma"]),
            iid_p=None if syn["iid_p"] is None else float(syn["iid_p"]),
            data_seed=int(syn["data_seed"]),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def _check_structure(structure: str) -> None:
    if structure not in STRUCTURES:
        raise ConfigError(f"unknown synthetic structure {structure!r}", f"use one of {list(STRUCTURES)}")


def _rng(seed: int, *keys: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and stable string keys (crc32), independent of any call order."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *[zlib.crc32(k.encode()) for k in keys]]))


def _fibonacci_sphere(n: int) -> np.ndarray:
    """n points of the Fibonacci lattice on S²: polar arccos(1 − 2(k+½)/n), azimuth π(1+√5)(k+½). Shape [n, 3]."""
    k = np.arange(n) + 0.5
    polar = np.arccos(1.0 - 2.0 * k / n)
    azim = np.pi * (1.0 + np.sqrt(5.0)) * k
    return np.stack([np.sin(polar) * np.cos(azim), np.sin(polar) * np.sin(azim), np.cos(polar)], axis=1)


def anchors(structure: str, features: int) -> np.ndarray:
    """Feature anchors a_j, shape [F, d] (d = 2 for circular/figure8, 3 for sphere, 0 for iid)."""
    _check_structure(structure)
    theta = 2.0 * np.pi * np.arange(features) / features
    if structure == "circular":
        return np.stack([np.cos(theta), np.sin(theta)], axis=1)
    if structure == "figure8":
        return np.stack([np.sin(theta), np.sin(2.0 * theta)], axis=1)
    if structure == "sphere":
        return _fibonacci_sphere(features)
    return np.zeros((features, 0))


def latents(structure: str, samples: int, features: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Sample latents u_i, shape [n, d]; see the module docstring for each structure."""
    _check_structure(structure)
    if structure in ("circular", "figure8"):
        phi = 2.0 * np.pi * (np.arange(samples) % features) / features
        if sigma > 0:
            phi = phi + rng.normal(0.0, sigma, size=samples)
        if structure == "circular":
            return np.stack([np.cos(phi), np.sin(phi)], axis=1)
        return np.stack([np.sin(phi), np.sin(2.0 * phi)], axis=1)
    if structure == "sphere":
        u, v = rng.random(samples), rng.random(samples)
        azim, polar = 2.0 * np.pi * u, np.arccos(2.0 * v - 1.0)
        out = np.stack([np.sin(polar) * np.cos(azim), np.sin(polar) * np.sin(azim), np.cos(polar)], axis=1)
        if sigma > 0:
            out = out + rng.normal(0.0, sigma, size=out.shape)
            out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out
    return np.zeros((samples, 0))


def activation_probabilities(structure: str, spec: DataSpec, rng: np.random.Generator) -> np.ndarray:
    """p_ij = sigmoid(κ⟨a_j, u_i⟩ + β) as a [n, F] array (iid: the constant p)."""
    if structure == "iid":
        return np.full((spec.samples, spec.features), iid_probability(spec))
    u = latents(structure, spec.samples, spec.features, spec.sigma, rng)
    logits = spec.kappa * (u @ anchors(structure, spec.features).T) + spec.beta
    return 1.0 / (1.0 + np.exp(-logits))


def iid_probability(spec: DataSpec) -> float:
    """p of the iid structure: ``spec.iid_p``, or the mean activation of the circular data when it is None."""
    if spec.iid_p is not None:
        if not 0.0 <= spec.iid_p <= 1.0:
            raise ConfigError(f"synthetic.iid_p={spec.iid_p} is not a probability", "set it in [0, 1] or null")
        return float(spec.iid_p)
    return float(generate("circular", spec).mean())


def generate(structure: str, spec: DataSpec) -> np.ndarray:
    """The dataset of ``structure``: uint8 [samples, F], one vectorised Bernoulli draw."""
    _check_structure(structure)
    if spec.features < 2 or spec.samples < 1:
        raise ConfigError(
            f"synthetic data needs features ≥ 2 and samples ≥ 1 (got {spec.features}, {spec.samples})",
            "raise synthetic.features / synthetic.samples",
        )
    rng = _rng(spec.data_seed, "data", structure)
    p = activation_probabilities(structure, spec, rng)
    return (rng.random(p.shape) < p).astype(np.uint8)


def split_indices(samples: int, train_samples: int, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random train/validation split (the same for every structure): first ``train_samples`` of a permutation."""
    if not 0 < train_samples < samples:
        raise ConfigError(
            f"synthetic.train_samples={train_samples} must be in (0, samples={samples})",
            "leave some samples for validation",
        )
    perm = _rng(data_seed, "split").permutation(samples)
    return np.sort(perm[:train_samples]), np.sort(perm[train_samples:])


def covariance(x: np.ndarray) -> np.ndarray:
    """Sample covariance of the features (``np.cov`` with rows = samples, ddof = 1), float64 [F, F]."""
    return np.cov(np.asarray(x, dtype=np.float64), rowvar=False)


def data_stats(x: np.ndarray) -> dict:
    """Summary numbers: mean activation p̄, per-feature p range, mean active features, second-moment spectrum."""
    xf = np.asarray(x, dtype=np.float64)
    cov = covariance(xf)
    second = xf.T @ xf / len(xf)
    eig = np.sort(np.linalg.eigvalsh(cov))[::-1]
    return {
        "samples": int(xf.shape[0]),
        "features": int(xf.shape[1]),
        "mean_activation": float(xf.mean()),
        "feature_p_min": float(xf.mean(0).min()),
        "feature_p_max": float(xf.mean(0).max()),
        "active_per_sample": float(xf.sum(1).mean()),
        "distinct_samples": int(len(np.unique(np.packbits(x.astype(bool), axis=1), axis=0))),
        "covariance_eigenvalues": eig.tolist(),
        "second_moment_eigenvalues": np.sort(np.linalg.eigvalsh(second))[::-1].tolist(),
    }
