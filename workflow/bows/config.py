"""Configuration: loading with schema defaults, and the semantic checks the schema cannot express.

The JSON Schema in ``workflow/schemas/config.schema.yaml`` is the single source of truth for keys and defaults. The
Snakefile and library users validate with :func:`validate` (jsonschema, defaults filled as Snakemake's
``validate`` fills them); the library does not need Snakemake.

Validation against the schema lives in :mod:`bows.schema`, the training grid in :mod:`bows.grid` and the word lists
in :mod:`bows.wordlists`; their names are re-exported here for notebooks. Jobs import those modules directly, so
that a job's code hash (:mod:`bows.codehash`) does not take in the loader and the checks, which run once, when the
workflow is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .ablation import ablation_models
from .errors import ConfigError, ShapeError
from .grid import ModelSpec, fmt_wd, model_grid, model_ref, subspace_k, sweep_models
from .schema import SCHEMA_PATH, deep_merge, defaults, section, validate
from .wordlists import paper_forced_tokens, resolve_group_words, stopwords, word_lists

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


def _read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist", "give the path of a YAML file such as config.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(
            f"config file {path} is not valid YAML: {err}", "fix the YAML syntax at the line shown"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections", "start it with e.g. `corpus:`")
    return data


def load_config(*paths: str | Path, overrides: Mapping[str, Any] | None = None, checked: bool = True) -> dict[str, Any]:
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


# --------------------------------------------------------------------------------------------- semantic checks


def _check_baselines(config: Mapping[str, Any], grid: list[ModelSpec]) -> None:
    """pca models are not trained: weight decay 0, L within the eigenvectors computed; counts need the MSE loss."""
    pca = [s for s in grid if s.variant == "pca"]
    if any(s.weight_decay != 0.0 for s in pca):
        raise ConfigError(
            "train.grid lists pca models with a weight decay: the pca baseline is not trained",
            "give pca blocks weight_decay: [0.0]",
        )
    cap = config["analysis"]["subspace_max_latent"]
    if any(s.latent > cap for s in pca):
        raise ConfigError(
            f"train.grid lists pca models with L above analysis.subspace_max_latent={cap}",
            "raise analysis.subspace_max_latent or drop those latent sizes from the pca block",
        )
    if config["windows"]["encoding"] == "counts" and config["train"]["loss"] != "mse":
        raise ConfigError(
            "windows.encoding: counts needs train.loss: mse (BCE wants binary targets)",
            "set train.loss to mse or windows.encoding to binary",
        )


def check(config: Mapping[str, Any]) -> None:
    """Consistency checks the schema cannot express. Raises one :class:`ConfigError` naming the fix."""
    grid = model_grid(config)
    _check_grid(config, grid)
    _check_baselines(config, grid)
    _check_forced_tokens(config)
    _check_analysis_models(config, grid)
    for name, group in config["analysis"]["word_groups"].items():
        resolve_group_words(name, group["words"])
    _check_ablation(config, grid)
    _check_synthetic(config["synthetic"])
    _check_value_coding(config["value_coding"])
    _check_sae(config)
    corpus = config["corpus"]
    if corpus["source"] == "local" and not corpus["local"]["train"]:
        raise ConfigError(
            "corpus.source is local but corpus.local.train is not set",
            "set corpus.local.train to a .txt, .jsonl, .parquet file or a saved dataset folder",
        )


def _check_grid(config: Mapping[str, Any], grid: list[ModelSpec]) -> None:
    """A non-empty grid whose latent sizes compress (L ≤ V)."""
    V = config["vocab"]["size"]
    if not grid:
        raise ConfigError("train.grid is empty", "list at least one block with latent sizes")
    too_big = sorted({s.latent for s in grid if s.latent > V})
    if too_big:
        raise ShapeError(
            f"latent sizes {too_big} exceed the vocabulary size V={V}: the autoencoder cannot compress",
            "lower train.grid latent sizes or raise vocab.size",
        )


def _check_forced_tokens(config: Mapping[str, Any]) -> None:
    """Forced tokens are a list or "paper", and fit in the vocabulary."""
    V = config["vocab"]["size"]
    forced = config["vocab"]["forced_tokens"]
    if isinstance(forced, str) and forced != "paper":
        raise ConfigError(
            f'vocab.forced_tokens must be a list or "paper", got {forced!r}',
            "write a YAML list of words, [] for none, or paper",
        )
    n_forced = len(paper_forced_tokens()) if forced == "paper" else len(set(forced))
    if n_forced > V:
        raise ShapeError(f"{n_forced} forced tokens do not fit in a vocabulary of {V}", "raise vocab.size")


def _check_analysis_models(config: Mapping[str, Any], grid: list[ModelSpec]) -> None:
    """The months, mechanism and UMAP models are trained by the grid, and the sweep's weight decay is in it."""
    names = set(grid)
    for key in ("months", "mechanism"):
        spec = model_ref(config["analysis"]["models"][key])
        if spec not in names:
            raise ConfigError(
                f"analysis.models.{key} names {spec.tag}, which train.grid does not train",
                f"add latent {spec.latent} at weight_decay {spec.wd}, seed {spec.seed} to train.grid "
                f"or point analysis.models.{key} at a trained model",
            )
    for i, ref in enumerate(config["analysis"]["models"]["umap"]):
        spec = model_ref(ref)
        if spec not in names:
            raise ConfigError(
                f"analysis.models.umap[{i}] names {spec.tag}, which train.grid does not train",
                "add it to train.grid or remove it from analysis.models.umap",
            )
    if not sweep_models(config):
        raise ConfigError(
            f"analysis.models.sweep uses weight_decay "
            f"{fmt_wd(config['analysis']['models']['sweep']['weight_decay'])}, "
            "but train.grid has no model with it",
            "set analysis.models.sweep.weight_decay to one of the grid's weight decays",
        )


def _check_ablation(config: Mapping[str, Any], grid: list[ModelSpec]) -> None:
    """The co-occurrence ablation names word groups, and its models are trained by the grid (pca: computable)."""
    groups = config["windows"]["exclude_cooccurrence"]
    if not groups:
        return
    unknown = [g for g in groups if g not in config["analysis"]["word_groups"]]
    if unknown:
        raise ConfigError(
            f"windows.exclude_cooccurrence names {unknown}, which analysis.word_groups does not define",
            f"use groups of analysis.word_groups ({', '.join(config['analysis']['word_groups'])}), define them "
            "there, or turn the ablation off with windows.exclude_cooccurrence: []",
        )
    k = subspace_k(config)
    for spec in ablation_models(config):
        if spec.variant == "pca" and (spec.weight_decay != 0.0 or spec.latent > k):
            raise ConfigError(
                f"analysis.models.ablation names {spec.tag}: pca baselines have weight decay 0 and L at most the "
                f"{k} eigenvectors computed",
                "give pca models weight_decay 0.0 and a latent size within train.grid's and "
                "analysis.subspace_max_latent",
            )
        if spec.variant != "pca" and spec not in set(grid):
            raise ConfigError(
                f"analysis.models.ablation names {spec.tag}, which train.grid does not train",
                "add it to train.grid (the full set's model is the ablation's reference) or remove it from "
                "analysis.models.ablation",
            )


def _check_synthetic(syn: Mapping[str, Any]) -> None:
    if not syn["enabled"]:
        return
    bad = [m for m in syn["latent"] if m > syn["features"]]
    if bad:
        raise ShapeError(
            f"synthetic.latent {bad} exceed synthetic.features={syn['features']}",
            "keep synthetic latent sizes at most the number of features",
        )
    if syn["train_samples"] >= syn["samples"]:
        raise ConfigError(
            "synthetic.train_samples must be smaller than synthetic.samples", "leave some samples for validation"
        )


def _check_value_coding(vc: Mapping[str, Any]) -> None:
    if not vc["enabled"]:
        return
    p = vc["modular"]["modulus"]
    n_train = round(vc["modular"]["train_fraction"] * p * p)
    if not 1 <= n_train < p * p:
        raise ConfigError(
            f"value_coding.modular.train_fraction={vc['modular']['train_fraction']} leaves "
            f"{n_train} of the {p * p} sums of modulus {p} for training",
            "choose a fraction that leaves pairs for both training and validation",
        )


def _check_sae(config: Mapping[str, Any]) -> None:
    """Consistency of the ``sae`` section with the rest of the config."""
    from .sae.settings import ARCHITECTURES, check_backend, models

    sae = config["sae"]
    if not sae["enabled"]:
        return
    grid = set(model_grid(config))
    for i, spec in enumerate(models(sae)):
        if spec not in grid:
            raise ConfigError(
                f"sae.models[{i}] names {spec.tag}, which train.grid does not train",
                f"add latent {spec.latent} at weight_decay {spec.wd}, seed {spec.seed} to train.grid "
                "or point sae.models at a trained model",
            )
    bad = [w for w in sae["widths"] if int(w) < 1]
    if bad:
        raise ShapeError(f"sae.widths {bad} are below 1", "give every SAE dictionary at least one latent")
    uses_k = [a for a in sae["architectures"] if ARCHITECTURES[a] == "l0_targets"]
    too_big = sorted({int(k) for k in sae["l0_targets"] if int(k) > min(int(w) for w in sae["widths"])})
    if uses_k and too_big:
        raise ShapeError(
            f"sae.l0_targets {too_big} exceed the latent size of the narrowest SAE "
            f"(sae.widths min {min(sae['widths'])}): a TopK SAE cannot keep more latents than it has",
            "lower sae.l0_targets or drop the narrow widths",
        )
    G = int(config["windows"]["group_size"])
    if int(sae["group_size"]) > G:
        raise ConfigError(
            f"sae.group_size {sae['group_size']} exceeds windows.group_size {G}: the SAE samples "
            "would reach records of the held-out blocks",
            f"use sae.group_size ≤ {G}",
        )
    groups = config["analysis"]["word_groups"]
    for name in sae["groups"]:
        if name not in groups:
            raise ConfigError(
                f"sae.groups names {name!r}, which analysis.word_groups does not define",
                f"use groups of analysis.word_groups: {sorted(groups)}",
            )
        resolve_group_words(name, groups[name]["words"])
    prefixes = [float(p) for p in sae["matryoshka_prefixes"]]
    if "matryoshka" in sae["architectures"] and any(not 0 < p < 1 for p in prefixes):
        raise ConfigError(
            f"sae.matryoshka_prefixes {prefixes} must lie strictly between 0 and 1",
            "give the nested dictionary sizes as fractions of the width, e.g. [0.25, 0.5]",
        )
    check_backend(sae["backend"])
    if sae["backend"] == "saelens" and "matryoshka" in sae["architectures"]:
        raise ConfigError(
            "sae.backend saelens trains relu and topk SAEs only, but sae.architectures lists matryoshka",
            "drop matryoshka from sae.architectures or use sae.backend: bows",
        )
