"""The synthetic section's data variants, resolved and checked when the workflow is parsed, and the rows of the
Gram-grid figure (checked with them, so that a bad ``figure_rows`` fails before any job runs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

__all__ = ["VARIANT_KEYS", "variants", "figure_rows"]

#: data keys a variant may override
VARIANT_KEYS = ("structures", "features", "samples", "train_samples", "kappa", "beta", "sigma", "iid_p", "data_seed")


def variants(syn: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every data variant of the ``synthetic`` section, resolved: the section's keys overridden by the variant's,
    plus ``variant`` = its name (no ``variants`` key). Raises ConfigError on duplicates or impossible settings."""
    out: dict[str, dict[str, Any]] = {}
    base = {k: v for k, v in syn.items() if k != "variants"}
    for v in syn["variants"]:
        name = v["name"]
        if name in out:
            raise ConfigError(f"synthetic.variants names {name!r} twice", "give every variant its own name")
        unknown = sorted(set(v) - {"name", *VARIANT_KEYS})
        if unknown:
            raise ConfigError(
                f"synthetic variant {name!r} sets {unknown}, which a variant cannot override",
                f"a variant may set {list(VARIANT_KEYS)}",
            )
        resolved = {**base, **{k: val for k, val in v.items() if k != "name"}, "variant": name}
        if not 0 < int(resolved["train_samples"]) < int(resolved["samples"]):
            raise ConfigError(
                f"synthetic variant {name!r}: train_samples must be in (0, samples)",
                "leave some samples for validation",
            )
        bad = [m for m in resolved["latent"] if m > resolved["features"]]
        if bad:
            raise ConfigError(
                f"synthetic variant {name!r}: latent sizes {bad} exceed features={resolved['features']}",
                "keep synthetic.latent at most the number of features",
            )
        figure_rows(resolved)  # fail at parse time, not when the figure is drawn
        out[name] = resolved
    return out


def figure_rows(syn: Mapping[str, Any]) -> list[tuple[str, float]]:
    """Rows of the Gram grid as (activation, weight decay): ``synthetic.figure_rows`` or, when null, the paper's
    layout derived from the config: linear at the smallest decay, then ReLU at every decay (ascending)."""
    rows = syn["figure_rows"]
    wds = sorted(float(w) for w in syn["weight_decay"])
    if rows:
        out = [(r["activation"], float(r["weight_decay"])) for r in rows]
        missing = [r for r in out if r[0] not in syn["activations"] or r[1] not in wds]
        if missing:
            raise ConfigError(
                f"synthetic.figure_rows {missing} are not trained",
                "use activations from synthetic.activations and decays from synthetic.weight_decay",
            )
        return out
    out = []
    if "linear" in syn["activations"]:
        out.append(("linear", wds[0]))
    if "relu" in syn["activations"]:
        out += [("relu", w) for w in wds]
    return out
