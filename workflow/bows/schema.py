"""The config schema (``workflow/schemas/config.schema.yaml``): validation with its defaults filled in, the defaults
themselves, and one section at a time.

Kept apart from :mod:`bows.config` (loading files and the semantic checks) so that library code which reads the
schema's defaults (training settings, tokenizer, figure settings) does not take the checks into its jobs' code hash.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

__all__ = ["SCHEMA_PATH", "validate", "defaults", "section", "deep_merge", "SECTIONS"]

#: the config's top-level sections
SECTIONS = (
    "corpus",
    "vocab",
    "windows",
    "train",
    "analysis",
    "synthetic",
    "value_coding",
    "sae",
    "figures",
    "dynamics",
    "explorer",
    "export",
    "references",
)

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into ``base`` recursively (dicts merge, everything else is replaced), like Snakemake does."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def defaults() -> dict[str, Any]:
    """Every section with the schema's defaults (for library calls made without a validated config)."""
    return copy.deepcopy(_defaults())


@lru_cache(maxsize=1)
def _defaults() -> dict[str, Any]:
    return validate({})


def section(name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One validated config section: ``overrides`` merged into it, every other key the schema's default (for
    library calls and tests made without a full config). Raises :class:`ConfigError` on a bad override."""
    if name not in _defaults():
        raise ConfigError(f"unknown config section {name!r}", f"use one of {sorted(_defaults())}")
    return validate({name: deep_merge({}, overrides or {})})[name]


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config`` in place against the schema, filling defaults (the semantics of Snakemake's
    ``snakemake.utils.validate``: JSON Schema draft 2020-12, each ``properties`` default set before validating)."""
    import jsonschema

    for section in SECTIONS:
        if config.get(section) is None:  # absent, or an empty `section:` line in YAML
            config[section] = {}
    try:
        _validator().validate(config)
    except jsonschema.ValidationError as err:
        raise ConfigError(
            _schema_message(err),
            "edit the key named above; the schema workflow/schemas/config.schema.yaml lists every key",
        ) from None
    canonical = _sorted_keys(config)
    config.clear()
    config.update(canonical)
    return config


@lru_cache(maxsize=1)
def _validator():
    """A draft 2020-12 validator of the config schema that sets each property's default before validating it."""
    from jsonschema import Draft202012Validator, validators

    schema = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        for prop, sub in properties.items():
            if "default" in sub and isinstance(instance, dict):  # like `properties`, a no-op on other types
                instance.setdefault(prop, copy.deepcopy(sub["default"]))  # never share the schema's objects
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(Draft202012Validator, {"properties": set_defaults})(schema)


def _sorted_keys(value: Any) -> Any:
    """``value`` with every mapping's keys in sorted order. Snakemake compares rule params by their text, so the
    order in which config files were merged must not matter (``--configfile config.yaml smoke.yaml`` and
    ``--configfile smoke.yaml`` give the same config)."""
    if isinstance(value, Mapping):
        return {k: _sorted_keys(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def _schema_message(err: Exception) -> str:
    cause = err.__cause__ or err  # a wrapping error (e.g. Snakemake's WorkflowError) names the schema error as cause
    message = getattr(cause, "message", None) or str(cause).splitlines()[0]
    where = "/".join(str(p) for p in getattr(cause, "absolute_path", []) or [])
    return f"invalid config at '{where or '<top>'}': {message}"
