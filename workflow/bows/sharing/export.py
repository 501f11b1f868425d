"""Writing an export folder (rules ``export_model`` and ``export_grid``): the layout is :mod:`.layout`.

Every file is written atomically; weights already in safetensors are copied byte for byte, so an exported model is
bit-identical to the trained one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..errors import CheckpointError
from ..grid import ModelSpec
from ..io import code_version, read_json, write_json, write_text
from . import layout
from .files import copy_file

__all__ = ["model_config", "export_model", "run_config", "workflow_files", "export_grid"]

#: config sections that made an export's models and tables (its config.yaml)
RUN_SECTIONS = ("corpus", "vocab", "windows", "train", "analysis", "export")


def model_config(run: Mapping[str, Any], windows: Mapping[str, Any]) -> dict[str, Any]:
    """The ``config.json`` of one exported model, from its ``run.json``: what the model is (variant, L, weight decay,
    seed, V, the windows it was trained on), how it was trained (the training settings; a pca model has none),
    and what came out (losses, decay exposure). ``windows``: the run's windows section, for models whose run.json
    does not record them (pca)."""
    model = dict(run["model"])
    for key in ("group_size", "stride", "encoding"):
        if key not in model:
            model[key] = windows[key]
    train = run["train"] if "train" in run else None
    exposure = run["exposure"] if "exposure" in run else None
    variant = model["variant"]
    return {
        "format": layout.FORMAT,
        "format_version": layout.FORMAT_VERSION,
        "library_name": "bows",
        "variant": variant,
        "latent": int(model["latent"]),
        "weight_decay": float(model["weight_decay"]),
        "seed": int(model["seed"]),
        "vocab_size": int(model["vocab_size"]),
        "group_size": int(model["group_size"]),
        "stride": int(model["stride"]),
        "encoding": str(model["encoding"]),
        "tensors": {"W": [int(model["latent"]), int(model["vocab_size"])], "b": [int(model["vocab_size"])]},
        "dtype": "float32",
        "formula": _formula(variant, bool(train and "latent_relu" in train and train["latent_relu"])),
        "train": train,
        "baseline": run["baseline"] if "baseline" in run else None,
        "results": {
            "epochs": run["epochs"] if "epochs" in run else None,
            "steps": run["steps"] if "steps" in run else None,
            "final_train_loss": run["final_train_loss"] if "final_train_loss" in run else None,
            "final_heldout_loss": run["final_heldout_loss"] if "final_heldout_loss" in run else None,
            "decay_exposure": exposure["decay_exposure"] if exposure else None,
            "decay_exposure_paper": exposure["decay_exposure_paper"] if exposure else None,
        },
    }


def _formula(variant: str, latent_relu: bool) -> str:
    """The model's forward pass, as bows.model computes it."""
    latent = "h = ReLU(W x)" if latent_relu else "h = W x"
    return f"{latent}; x̂ = ReLU(Wᵀh + b)" if variant == "relu" else f"{latent}; x̂ = Wᵀh + b"


def _check_shapes(path: str | os.PathLike, W, b, config: Mapping[str, Any]) -> None:
    expected = (config["latent"], config["vocab_size"])
    if tuple(W.shape) != expected or tuple(b.shape) != (expected[1],):
        raise CheckpointError(
            f"{path} holds W {tuple(W.shape)} and b {tuple(b.shape)}, but its run.json describes L={expected[0]}, "
            f"V={expected[1]}",
            f"delete {path} and its run.json and train the model again",
        )


def export_model(
    model: str | os.PathLike,
    run: str | os.PathLike,
    weights_out: str | os.PathLike,
    config_out: str | os.PathLike,
    run_out: str | os.PathLike,
    spec: ModelSpec,
    windows: Mapping[str, Any],
) -> dict[str, Any]:
    """Rule export_model: one trained model into its export folder. Weights in safetensors are copied as they are;
    a legacy ``model.pt`` is converted (:func:`bows.model.save_model`, the model's settings as metadata)."""
    from ..model_files import load_weights

    record = read_json(run)
    config = model_config(record, windows)
    found = ModelSpec(config["variant"], config["latent"], config["weight_decay"], config["seed"])
    if found != spec:
        raise CheckpointError(
            f"{run} describes {found.tag}, but it lies in the folder of {spec.tag}",
            f"delete {Path(run).parent} and train the model again",
        )
    W, b = load_weights(model)  # reads either format and refuses truncated or non-finite weights
    _check_shapes(model, W, b, config)
    if Path(model).suffix == ".safetensors":
        copy_file(model, weights_out)
    else:
        from ..model_files import save_model

        save_model(weights_out, W, b, {k: config[k] for k in config if k not in ("train", "baseline", "results")})
    write_json(config_out, config)
    copy_file(run, run_out)
    return config


def workflow_files(basedir: str | os.PathLike) -> dict[str, str]:
    """The workflow definition an export copies (path in the export → file of the workflow at ``basedir``): the
    Snakefile, every rule file and the config schema."""
    base = Path(basedir)
    files = {"Snakefile": base / "Snakefile"}
    files |= {f"rules/{p.name}": p for p in sorted((base / "workflow" / "rules").glob("*.smk"))}
    files["schemas/config.schema.yaml"] = base / "workflow" / "schemas" / "config.schema.yaml"
    return {f"{layout.WORKFLOW_DIR}/{rel}": str(path) for rel, path in files.items()}


def run_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The sections of a validated config that made an export (its config.yaml); ``train.source`` is left out:
    the export is the source of whoever starts from it."""
    out = {name: dict(config[name]) for name in RUN_SECTIONS if name in config}
    if "train" in out:
        out["train"].pop("source", None)
    return out


def _write_config_yaml(path: Path, config: Mapping[str, Any]) -> None:
    code = code_version()
    commit = f", commit {code['git_commit']}" if "git_commit" in code else ""
    header = (
        f"# The configuration of the run that made this export (bows {code['bows']}{commit}).\n"
        "# Start a run from these models: snakemake --configfile <this file> start.yaml, where start.yaml sets\n"
        "# train: {source: {export: <this folder or its hub repository>}} (docs/sharing.md).\n"
    )
    write_text(path, header + yaml.safe_dump(run_config(config), sort_keys=True, allow_unicode=True))


def export_grid(
    root: str | os.PathLike,
    specs: Sequence[ModelSpec],
    vocab: str | os.PathLike,
    tables: Mapping[str, str | os.PathLike],
    criteria: str | os.PathLike,
    workflow_files: Mapping[str, str | os.PathLike],
    config: Mapping[str, Any],
    source_files: Mapping[str, str | os.PathLike] | None = None,
) -> None:
    """Rule export_grid: complete an export folder whose model folders :func:`export_model` wrote.

    ``tables``: name → the table's parquet (its CSV lies beside it); ``workflow_files``: path in the export →
    the workflow file it copies; ``config``: the validated config; ``source_files``: what the run read (name →
    path: the corpus splits and window index) for the RO-Crate's inputs. Writes the vocabulary, tables and
    criteria (copies), config.yaml, the model card, and last the RO-Crate, which lists every file with its checksum.
    """
    from .card import write_card
    from .crate import write_crate

    root = Path(root)
    missing = [s.tag for s in specs if not (layout.model_dir(root, s) / layout.MODEL_CONFIG).is_file()]
    if missing:
        raise CheckpointError(
            f"the export folder {root} lacks the models {missing}", "run snakemake export (it exports every model)"
        )
    copy_file(vocab, root / layout.VOCAB)
    for name, parquet in tables.items():
        rel_parquet, rel_csv = layout.table_files(name)
        copy_file(parquet, root / rel_parquet)
        copy_file(Path(parquet).with_suffix(".csv"), root / rel_csv)
    copy_file(criteria, root / layout.CRITERIA)
    for rel, src in workflow_files.items():
        copy_file(src, root / rel)
    _write_config_yaml(root / layout.RUN_CONFIG, config)
    write_card(root, specs, config)
    write_crate(root, specs, config, list(workflow_files), list(tables), source_files or {})
