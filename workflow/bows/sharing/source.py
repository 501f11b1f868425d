"""Starting a run from shared models (``train.source``): find the export, check that it fits the run, import it.

An export is a folder that ``snakemake export`` wrote, or a Hugging Face hub model repository holding one
(downloaded with ``huggingface_hub.snapshot_download`` into the hub cache, which also serves it offline). Before any
job starts, :func:`check_fits` compares the export with the run: every grid model present, the same vocabulary size,
windows (G, S, encoding) and training settings, and, once the run has built its vocabulary, the same words in the
same order. Rule ``import_model`` (:func:`import_model`) then places each model into the run's results tree with
its training record and where it came from, so that metrics, figures, SAEs and the report run with no training job.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ExportError, VocabError
from ..grid import ModelSpec
from ..io import file_sha256, read_json, write_json, write_sidecar
from . import layout
from .files import copy_file

__all__ = [
    "REPO_ID",
    "resolve",
    "download",
    "export_models",
    "compare_vocab",
    "check_fits",
    "start_from",
    "import_model",
    "crate_checksums",
]

#: a hub repository id (owner/name); a string that is neither this nor an existing folder is refused
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")

#: config keys that only name or place things: they do not change the vocabulary a corpus gives
_NAMING_KEYS = {"corpus": ("name",), "vocab": ("workers",)}


def download(
    repo_id: str,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_only: bool = False,
) -> Path:
    """The hub repository's snapshot folder in the hub cache (downloaded when needed; from the cache alone with
    ``local_only`` or ``HF_HUB_OFFLINE=1``)."""
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(
            repo_id, revision=revision, cache_dir=cache_dir, library_name="bows", local_files_only=local_only
        )
    except Exception as err:  # hub errors (not found, offline and not cached, network) and OSError
        at = f" at revision {revision}" if revision else ""
        raise ExportError(
            f"cannot fetch the hub repository {repo_id}{at}: {type(err).__name__}: {err}",
            "check the repository name and revision; without network (HF_HUB_OFFLINE=1) it must be in the hub "
            "cache already: download it once with network (docs/sharing.md)",
        ) from None
    return Path(folder)


def resolve(
    source: str | os.PathLike,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_only: bool = False,
) -> Path:
    """The local folder of an export: ``source`` itself when it is a folder, else the snapshot of the hub
    repository ``source`` names (owner/name)."""
    text = str(source)
    path = Path(text).expanduser()
    if path.is_dir():
        root = path.resolve()
    elif REPO_ID.match(text) and not path.exists():
        root = download(text, revision, cache_dir, local_only)
    else:
        raise ExportError(
            f"no export folder at {text}",
            "give the folder snakemake export wrote (results/{corpus}/export/V…_G…_S…), or a hub repository as "
            "owner/name",
        )
    if not (root / layout.VOCAB).is_file():
        raise ExportError(
            f"{text} is not a bows export: it has no {layout.VOCAB}",
            "point at the folder snakemake export wrote (it holds README.md, vocab.tsv and one folder per model)",
        )
    return root


def _check_format(path: Path, cfg: Mapping[str, Any]) -> None:
    if "format" not in cfg or cfg["format"] != layout.FORMAT:
        raise ExportError(f"{path} is not a bows model config", "point at a folder that snakemake export wrote")
    if int(cfg["format_version"]) > layout.FORMAT_VERSION:
        raise ExportError(
            f"{path} has format version {cfg['format_version']}, newer than this bows reads ({layout.FORMAT_VERSION})",
            "update bows",
        )


def export_models(root: str | os.PathLike) -> dict[ModelSpec, dict[str, Any]]:
    """Every model of an export: its :class:`ModelSpec` (from the fields of its config.json) → the config."""
    root = Path(root)
    models: dict[ModelSpec, dict[str, Any]] = {}
    for path in sorted(root.glob(f"*/*/{layout.MODEL_CONFIG}")):
        cfg = read_json(path)
        _check_format(path, cfg)
        spec = ModelSpec(cfg["variant"], int(cfg["latent"]), float(cfg["weight_decay"]), int(cfg["seed"]))
        if layout.model_dir(root, spec) != path.parent:
            raise ExportError(
                f"{path} describes {spec.tag} but lies in {path.parent.relative_to(root)}",
                "export the grid again (snakemake export); model folders must not be renamed",
            )
        models[spec] = cfg
    if not models:
        raise ExportError(f"{root} holds no models", "point at a folder that snakemake export wrote")
    return models


def _export_config(root: Path) -> dict[str, Any]:
    import yaml

    path = root / layout.RUN_CONFIG
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _recipe_differences(export_config: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Keys of the corpus and vocab sections (those that make a vocabulary) where the export's run and this one
    differ, as ``section.key: export → here``."""

    def flat(value: Any, prefix: str) -> dict[str, Any]:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, sub in value.items():
                out.update(flat(sub, f"{prefix}.{key}"))
            return out
        return {prefix: value}

    diffs = []
    for section, skip in _NAMING_KEYS.items():
        if section not in export_config:
            continue
        theirs = flat({k: v for k, v in export_config[section].items() if k not in skip}, section)
        ours = flat({k: v for k, v in config[section].items() if k not in skip}, section)
        for key in sorted(set(theirs) | set(ours)):
            a, b = theirs.get(key), ours.get(key)
            if a != b and key != "vocab.size":  # the size is named with the models
                diffs.append(f"{key}: {a!r} in the export, {b!r} here")
    return diffs


def _recipe_hint(root: Path, config: Mapping[str, Any]) -> str:
    diffs = _recipe_differences(_export_config(root), config)
    if not diffs:
        return ""
    return " The export's corpus and vocabulary settings differ from this run's: " + "; ".join(diffs[:8]) + "."


def compare_vocab(export_vocab: str | os.PathLike, vocab: str | os.PathLike) -> list[str]:
    """How two vocabularies differ (empty: the same words in the same order): their sizes, and the first
    positions whose words differ."""
    from ..vocab import read_vocab

    theirs = list(read_vocab(export_vocab)["word"])
    ours = list(read_vocab(vocab)["word"])
    problems = []
    if len(theirs) != len(ours):
        problems.append(f"{len(theirs)} words in the export, {len(ours)} here")
    differ = [i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b]
    if differ:
        first = ", ".join(f"{i}: {theirs[i]!r} there, {ours[i]!r} here" for i in differ[:3])
        problems.append(f"{len(differ)} of {min(len(theirs), len(ours))} positions hold other words ({first})")
    return problems


def _norm(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def _model_problems(
    cfg: Mapping[str, Any],
    vocab_size: int,
    windows: Mapping[str, Any],
    train: Mapping[str, Any],
    result_keys: Iterable[str],
) -> list[tuple[str, Any, Any]]:
    """(key, the model's value, the run's value) for each setting where an exported model differs from the run:
    the vocabulary size, the windows, and the training settings that change a model (a pca model has none)."""
    problems = []
    if int(cfg["vocab_size"]) != int(vocab_size):
        problems.append(("vocab.size", int(cfg["vocab_size"]), int(vocab_size)))
    for key in ("group_size", "stride", "encoding"):
        if str(cfg[key]) != str(windows[key]):
            problems.append((f"windows.{key}", cfg[key], windows[key]))
    recorded = cfg["train"]
    if recorded is not None:
        for key in result_keys:
            theirs = recorded[key] if key in recorded else None
            ours = train[key] if key in train else None
            if _norm(theirs) != _norm(ours):
                problems.append((f"train.{key}", theirs, ours))
    return problems


def _describe(found: Mapping[tuple[str, Any, Any], list[str]], n_models: int) -> str:
    """``key = value in the export (which models), value here`` for each mismatch, models grouped."""
    parts = []
    for (key, theirs, ours), tags in found.items():
        which = f"all {n_models} models" if len(tags) == n_models and n_models > 1 else ", ".join(tags[:3])
        if len(tags) > 3 and len(tags) != n_models:
            which += f" and {len(tags) - 3} more"
        parts.append(f"{key} = {theirs!r} in the export ({which}), {ours!r} here")
    return "; ".join(parts)


def _mismatches(
    models: Mapping[ModelSpec, Mapping[str, Any]], config: Mapping[str, Any], result_keys: Iterable[str]
) -> tuple[str, str]:
    """(vocabulary mismatches, other mismatches) of the exported ``models`` against the run, described."""
    keys = tuple(result_keys)
    vocab: dict[tuple[str, Any, Any], list[str]] = {}
    other: dict[tuple[str, Any, Any], list[str]] = {}
    for spec, cfg in models.items():
        for problem in _model_problems(cfg, config["vocab"]["size"], config["windows"], config["train"], keys):
            (vocab if problem[0] == "vocab.size" else other).setdefault(_hashable(problem), []).append(spec.tag)
    return _describe(vocab, len(models)), _describe(other, len(models))


def _hashable(problem: tuple[str, Any, Any]) -> tuple[str, Any, Any]:
    key, theirs, ours = problem
    freeze = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731
    return key, freeze(theirs), freeze(ours)


def check_fits(
    root: str | os.PathLike,
    grid: Sequence[ModelSpec],
    config: Mapping[str, Any],
    result_keys: Iterable[str],
    vocab: str | os.PathLike | None = None,
) -> dict[ModelSpec, dict[str, Any]]:
    """Check that the export at ``root`` can stand in for training ``grid`` in a run of the validated ``config``:
    every model present, the same vocabulary size, windows and training settings (``result_keys``: the keys of
    the train section that change a trained model, ``bows.train.RESULT_KEYS``), and, when ``vocab`` (the run's
    vocab.tsv) exists, the same words. Raises one error naming every mismatch and how to fix it; returns the
    grid's exported configs."""
    root = Path(root)
    models = export_models(root)
    missing = [s.tag for s in grid if s not in models]
    if missing:
        raise ExportError(
            f"the export {root} has no model {', '.join(missing)} of this run's train.grid "
            f"(it holds {', '.join(s.tag for s in sorted(models))})",
            "train.grid may name only models of the export: remove the others, or start from an export that has them",
        )
    vocab_text, other_text = _mismatches({s: models[s] for s in grid}, config, result_keys)
    if vocab_text:
        raise VocabError(
            f"the export {root} was made on another vocabulary: {vocab_text}." + _recipe_hint(root, config),
            f"use the export's corpus and vocab settings ({layout.RUN_CONFIG} in the export: snakemake "
            "--configfile <export>/config.yaml start.yaml), or start from an export made on this vocabulary",
        )
    if other_text:
        raise ConfigError(
            f"the export does not match this run: {other_text}",
            f"set these keys as the export's {layout.RUN_CONFIG} has them (or pass it with --configfile before "
            "your own config file)",
        )
    if vocab is not None and Path(vocab).is_file():
        problems = compare_vocab(root / layout.VOCAB, vocab)
        if problems:
            raise VocabError(
                f"the vocabulary of the export {root} is not this run's ({vocab}): "
                + "; ".join(problems)
                + "."
                + _recipe_hint(root, config),
                "build the vocabulary as the export's run did (its corpus and vocab settings, in the export's "
                f"{layout.RUN_CONFIG}), or start from an export made on this corpus",
            )
    return {s: models[s] for s in grid}


#: settings that train models an export cannot hold: (what they train, the setting that turns them off)
_NO_TRAINING = {
    "train.snapshots.count": ("snapshots over training", "train: {snapshots: {count: 0}}"),
    "windows.exclude_cooccurrence": ("the co-occurrence ablation's models", "windows: {exclude_cooccurrence: []}"),
}


def _needs_training(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of :data:`_NO_TRAINING` this run has on (name → value): what only training gives, beside the
    grid's models (empty: nothing)."""
    train, windows = config["train"], config["windows"]
    values = {
        "train.snapshots.count": train["snapshots"]["count"] if "snapshots" in train else 0,
        "windows.exclude_cooccurrence": list(windows["exclude_cooccurrence"])
        if "exclude_cooccurrence" in windows
        else [],
    }
    return {name: value for name, value in values.items() if value}


def start_from(
    source: Mapping[str, Any],
    grid: Sequence[ModelSpec],
    config: Mapping[str, Any],
    result_keys: Iterable[str],
    vocab: str | os.PathLike,
    own_export: str | os.PathLike,
    check: bool = True,
) -> Path:
    """``train.source`` when the workflow starts: the export's local folder (a hub repository is fetched), checked
    against the run with :func:`check_fits` (``check``; job processes skip it). ``own_export`` is this run's own
    export folder, which cannot be its source."""
    needs_training = _needs_training(config)
    if needs_training:
        asked = "; ".join(f"{name} = {value} ({_NO_TRAINING[name][0]})" for name, value in needs_training.items())
        fixes = ", ".join(_NO_TRAINING[name][1] for name in needs_training)
        raise ConfigError(
            f"starting from shared models, this run still asks for training: {asked} (an export holds the grid's "
            "final models only)",
            f"set {fixes} beside train.source (docs/sharing.md)",
        )
    root = resolve(source["export"], source["revision"], local_only=not check)
    own = Path(own_export).resolve()
    if root == own or own in root.parents:
        raise ExportError(
            f"train.source names this run's own export folder ({root})",
            "start from the export in another work directory (snakemake -d), or copy it elsewhere first",
        )
    if check:
        check_fits(root, grid, config, result_keys, vocab)
    return root


def crate_checksums(root: str | os.PathLike) -> dict[str, str]:
    """sha256 of every file the export's RO-Crate lists (path relative to the export → hex), read as plain JSON."""
    path = Path(root) / layout.CRATE
    if not path.is_file():
        return {}
    graph = json.loads(path.read_text(encoding="utf-8"))["@graph"]
    return {e["@id"]: e["sha256"] for e in graph if "sha256" in e and not str(e["@id"]).startswith("#")}


def import_model(
    weights: str | os.PathLike,
    model_config: str | os.PathLike,
    run: str | os.PathLike,
    export_vocab: str | os.PathLike,
    vocab: str | os.PathLike,
    model_out: str | os.PathLike,
    run_out: str | os.PathLike,
    spec: ModelSpec,
    config: Mapping[str, Any],
    result_keys: Iterable[str],
    source: Mapping[str, Any],
) -> dict[str, Any]:
    """Rule import_model: one exported model into the run's results tree, checked against the run first.

    ``config``: the run's validated sections (vocab, windows, train); ``source``: ``train.source`` as configured.
    Writes the weights (byte for byte), the training record ``run.json`` with an ``imported`` block (where from,
    the weights' sha256, when), and the weights' provenance sidecar."""
    weights, root = Path(weights), Path(model_config).parents[2]
    cfg = read_json(model_config)
    _check_format(Path(model_config), cfg)
    found = ModelSpec(cfg["variant"], int(cfg["latent"]), float(cfg["weight_decay"]), int(cfg["seed"]))
    if found != spec:
        raise ExportError(
            f"{model_config} describes {found.tag}, not {spec.tag}", "export the grid again (snakemake export)"
        )
    vocab_text, other_text = _mismatches({spec: cfg}, config, result_keys)
    problems = ([vocab_text] if vocab_text else []) + compare_vocab(export_vocab, vocab)
    if problems:
        raise VocabError(
            f"the export's {spec.tag} was made on another vocabulary than this run's ({vocab}): "
            + "; ".join(problems)
            + "."
            + _recipe_hint(root, config),
            "build the vocabulary as the export's run did (its corpus and vocab settings, in the export's "
            f"{layout.RUN_CONFIG}), or start from an export made on this corpus",
        )
    if other_text:
        raise ConfigError(f"the export does not match this run: {other_text}", "see docs/sharing.md")
    sha = file_sha256(weights)
    rel = weights.resolve().relative_to(root.resolve()) if weights.resolve().is_relative_to(root.resolve()) else None
    listed = crate_checksums(root).get(rel.as_posix()) if rel is not None else None
    if listed is not None and listed != sha:
        raise ExportError(
            f"{weights} does not match the checksum its export's RO-Crate lists (damaged download or copy)",
            "fetch or copy the export again",
        )
    copy_file(weights, model_out)
    record = read_json(run)
    record["imported"] = {
        "source": dict(source),
        "folder": str(root),
        "weights_sha256": sha,
        "checked_against_crate": listed is not None,
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_sidecar(
        model_out,
        {"train": {"source": dict(source)}},
        inputs={"weights": weights, "config": model_config, "run": run, "export_vocab": export_vocab},
        imported=True,
    )
    write_json(run_out, record)
    return record
