"""Configuration: loading with schema defaults, semantic checks, the training grid and word lists.

The JSON Schema in ``workflow/schemas/config.schema.yaml`` is the single source of truth for keys and defaults. The
Snakefile and library users validate with :func:`validate` (jsonschema, defaults filled as Snakemake's
``validate`` fills them); the library does not need Snakemake.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigError, ShapeError

__all__ = [
    "SCHEMA_PATH",
    "load_config",
    "validate",
    "defaults",
    "section",
    "check",
    "ModelSpec",
    "model_grid",
    "model_ref",
    "sweep_models",
    "subspace_k",
    "fmt_wd",
    "word_lists",
    "paper_forced_tokens",
    "resolve_group_words",
    "stopwords",
    "deep_merge",
]

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


def _read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist", "give the path of a YAML file such as config.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}", "fix the YAML syntax at the line shown")
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections", "start it with e.g. `corpus:`")
    return data


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

    for section in ("corpus", "vocab", "windows", "train", "analysis", "synthetic", "value_coding", "sae", "figures"):
        if config.get(section) is None:  # absent, or an empty `section:` line in YAML
            config[section] = {}
    try:
        _validator().validate(config)
    except jsonschema.ValidationError as err:
        raise ConfigError(_schema_message(err), "edit the key named above; the schema "
                                                "workflow/schemas/config.schema.yaml lists every key") from None
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
            if "default" in sub:
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


def load_config(*paths: str | Path, overrides: Mapping[str, Any] | None = None, checked: bool = True
                ) -> dict[str, Any]:
    """Load YAML files (later ones override earlier ones), apply ``overrides``, validate and check."""
    config: dict[str, Any] = {}
    for path in paths:
        config = deep_merge(config, _read_yaml(path))
    if overrides:
        config = deep_merge(config, overrides)
    validate(config)
    if checked:
        check(config)
    return config


# --------------------------------------------------------------------------------------------- the training grid

def fmt_wd(wd: float) -> str:
    """Weight decay as it appears in paths: ``str(float(wd))`` ("1.0", "4.0", "0.0", "0.0001")."""
    return str(float(wd))


@dataclass(frozen=True, order=True)
class ModelSpec:
    variant: str
    latent: int
    weight_decay: float
    seed: int

    @property
    def wd(self) -> str:
        return fmt_wd(self.weight_decay)

    @property
    def tag(self) -> str:
        """``relu/L1000_wd4.0_seed1``: the model's folder below the windows tag."""
        return f"{self.variant}/L{self.latent}_wd{self.wd}_seed{self.seed}"


def model_grid(config: Mapping[str, Any]) -> list[ModelSpec]:
    """Every model of ``train.grid`` (the union of its blocks) of a validated config (the schema fills each block's
    variant, weight_decay and seed), sorted and without duplicates."""
    specs = set()
    for block in config["train"]["grid"]:
        for variant, latent, wd, seed in itertools.product(
                block["variant"], block["latent"], block["weight_decay"], block["seed"]):
            specs.add(ModelSpec(variant, int(latent), float(wd), int(seed)))
    return sorted(specs)


def model_ref(ref: Mapping[str, Any]) -> ModelSpec:
    """A validated model reference (``analysis.models`` and ``sae.models`` entries: the schema fills variant,
    weight_decay and seed) as a :class:`ModelSpec`."""
    return ModelSpec(ref["variant"], int(ref["latent"]), float(ref["weight_decay"]), int(ref["seed"]))


def sweep_models(config: Mapping[str, Any], latent: int | None = None) -> list[ModelSpec]:
    """The grid models of the structure sweep (``analysis.models.sweep``'s variant and weight decay of a validated
    config), optionally only those of latent size ``latent``, sorted by (latent, seed)."""
    sweep = config["analysis"]["models"]["sweep"]
    return sorted((s for s in model_grid(config)
                   if s.variant == sweep["variant"] and s.weight_decay == float(sweep["weight_decay"])
                   and (latent is None or s.latent == int(latent))), key=lambda s: (s.latent, s.seed))
def subspace_k(config: Mapping[str, Any]) -> int:
    """Eigenvectors the overlap metric and the pca models need: the grid's largest L, capped by
    ``analysis.subspace_max_latent`` and V."""
    top = max(s.latent for s in model_grid(config))
    return int(min(top, config["analysis"]["subspace_max_latent"], config["vocab"]["size"]))


# --------------------------------------------------------------------------------------------- word lists

@lru_cache(maxsize=1)
def word_lists() -> dict[str, Any]:
    """The paper's word lists (forced tokens, semantic categories, word groups, seasonal words, mechanism)."""
    text = resources.files("bows").joinpath("data/word_lists.json").read_text(encoding="utf-8")
    return json.loads(text)


def paper_forced_tokens() -> list[str]:
    """The 39 forced tokens of the official code, in Python-sorted order."""
    return sorted({w for words in word_lists()["forced_tokens"].values() for w in words})


_PAPER_GROUPS = {
    "Months": lambda wl: wl["word_groups"]["Months"],
    "Roman numerals": lambda wl: wl["word_groups"]["Roman numerals"],
    "Days": lambda wl: wl["forced_tokens"]["days"],
    "Planets": lambda wl: wl["forced_tokens"]["planets"],
    "Animal families": lambda wl: wl["forced_tokens"]["animal_families"],
    "Animal examples": lambda wl: wl["forced_tokens"]["animal_examples"],
}


def resolve_group_words(name: str, words: str | list[str]) -> list[str]:
    """The words of a group: a list as given, or ``"paper"`` for the built-in list of that group name."""
    if isinstance(words, str):
        if words != "paper":
            raise ConfigError(f"word group '{name}': words must be a list or \"paper\", got {words!r}",
                              "write the words as a YAML list, e.g. words: [January, February]")
        if name not in _PAPER_GROUPS:
            raise ConfigError(f"word group '{name}' has no built-in list",
                              f"give its words as a list; built-in groups are {sorted(_PAPER_GROUPS)}")
        return list(_PAPER_GROUPS[name](word_lists()))
    return list(words)


def stopwords(spec: str) -> frozenset[str]:
    """Stop words: ``nltk_english`` (bundled list), ``none``, or a path to a file with one word per line."""
    if spec == "none":
        return frozenset()
    if spec == "nltk_english":
        text = resources.files("bows").joinpath("data/nltk_english_stopwords.txt").read_text(encoding="utf-8")
    else:
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"vocab.stopwords: file {spec} does not exist",
                              "use nltk_english, none, or the path of a file with one word per line")
        text = path.read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip())


# --------------------------------------------------------------------------------------------- semantic checks

def _check_baselines(config: Mapping[str, Any], grid: list[ModelSpec]) -> None:
    """pca models are not trained: weight decay 0, L within the eigenvectors computed; counts need the MSE loss."""
    pca = [s for s in grid if s.variant == "pca"]
    if any(s.weight_decay != 0.0 for s in pca):
        raise ConfigError("train.grid lists pca models with a weight decay: the pca baseline is not trained",
                          "give pca blocks weight_decay: [0.0]")
    cap = config["analysis"]["subspace_max_latent"]
    if any(s.latent > cap for s in pca):
        raise ConfigError(f"train.grid lists pca models with L above analysis.subspace_max_latent={cap}",
                          "raise analysis.subspace_max_latent or drop those latent sizes from the pca block")
    if config["windows"]["encoding"] == "counts" and config["train"]["loss"] != "mse":
        raise ConfigError("windows.encoding: counts needs train.loss: mse (BCE wants binary targets)",
                          "set train.loss to mse or windows.encoding to binary")


def check(config: Mapping[str, Any]) -> None:
    """Consistency checks the schema cannot express. Raises one :class:`ConfigError` naming the fix."""
    V = config["vocab"]["size"]
    grid = model_grid(config)
    if not grid:
        raise ConfigError("train.grid is empty", "list at least one block with latent sizes")
    too_big = sorted({s.latent for s in grid if s.latent > V})
    if too_big:
        raise ShapeError(f"latent sizes {too_big} exceed the vocabulary size V={V}: the autoencoder cannot compress",
                         "lower train.grid latent sizes or raise vocab.size")
    _check_baselines(config, grid)
    forced = config["vocab"]["forced_tokens"]
    n_forced = len(paper_forced_tokens()) if forced == "paper" else len(set(forced))
    if isinstance(forced, str) and forced != "paper":
        raise ConfigError(f"vocab.forced_tokens must be a list or \"paper\", got {forced!r}",
                          "write a YAML list of words, [] for none, or paper")
    if n_forced > V:
        raise ShapeError(f"{n_forced} forced tokens do not fit in a vocabulary of {V}", "raise vocab.size")
    names = set(grid)
    for key in ("months", "mechanism"):
        spec = model_ref(config["analysis"]["models"][key])
        if spec not in names:
            raise ConfigError(f"analysis.models.{key} names {spec.tag}, which train.grid does not train",
                              f"add latent {spec.latent} at weight_decay {spec.wd}, seed {spec.seed} to train.grid "
                              f"or point analysis.models.{key} at a trained model")
    for i, ref in enumerate(config["analysis"]["models"]["umap"]):
        spec = model_ref(ref)
        if spec not in names:
            raise ConfigError(f"analysis.models.umap[{i}] names {spec.tag}, which train.grid does not train",
                              "add it to train.grid or remove it from analysis.models.umap")
    sweep = config["analysis"]["models"]["sweep"]
    if not sweep_models(config):
        raise ConfigError(f"analysis.models.sweep uses weight_decay {fmt_wd(sweep['weight_decay'])}, "
                          "but train.grid has no model with it",
                          "set analysis.models.sweep.weight_decay to one of the grid's weight decays")
    for name, group in config["analysis"]["word_groups"].items():
        resolve_group_words(name, group["words"])
    syn = config["synthetic"]
    if syn["enabled"]:
        bad = [m for m in syn["latent"] if m > syn["features"]]
        if bad:
            raise ShapeError(f"synthetic.latent {bad} exceed synthetic.features={syn['features']}",
                             "keep synthetic latent sizes at most the number of features")
        if syn["train_samples"] >= syn["samples"]:
            raise ConfigError("synthetic.train_samples must be smaller than synthetic.samples",
                              "leave some samples for validation")
    vc = config["value_coding"]
    if vc["enabled"]:
        p = vc["modular"]["modulus"]
        n_train = round(vc["modular"]["train_fraction"] * p * p)
        if not 1 <= n_train < p * p:
            raise ConfigError(f"value_coding.modular.train_fraction={vc['modular']['train_fraction']} leaves "
                              f"{n_train} of the {p * p} sums of modulus {p} for training",
                              "choose a fraction that leaves pairs for both training and validation")
    from .sae.settings import check as check_sae

    check_sae(config)
    corpus = config["corpus"]
    if corpus["source"] == "local" and not corpus["local"]["train"]:
        raise ConfigError("corpus.source is local but corpus.local.train is not set",
                          "set corpus.local.train to a .txt, .jsonl, .parquet file or a saved dataset folder")
