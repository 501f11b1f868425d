"""The layout of an export folder, stated once: the writer, the loader, the import and the tests read it here.

::

    README.md                      model card (YAML header for a model hub, then the grid, criteria, loading)
    ro-crate-metadata.json         RO-Crate (Workflow Run Crate): the run's inputs, outputs, software and workflow
    config.yaml                    the run's configuration (the sections that made the models and tables)
    vocab.tsv                      the vocabulary: column i of every W is word i
    criteria.json                  the reproduction criteria of the run
    metrics/{table}.parquet|csv    the grid's metric tables
    workflow/...                   the workflow definition that ran (Snakefile, rules, config schema)
    {variant}/L{L}_wd{wd}_seed{seed}/
        model.safetensors          tensors W [L, V] and b [V], float32
        config.json                the model's settings (what it is, how it was trained, what came out)
        run.json                   the training record with its provenance, as the run wrote it
"""

from __future__ import annotations

from pathlib import Path

from ..grid import ModelSpec

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "WEIGHTS",
    "MODEL_CONFIG",
    "RUN",
    "VOCAB",
    "CARD",
    "CRATE",
    "RUN_CONFIG",
    "CRITERIA",
    "TABLES_DIR",
    "TABLES",
    "WORKFLOW_DIR",
    "model_dir",
    "table_files",
]

#: the ``format`` field of every model's config.json, and its version (a reader refuses newer versions)
FORMAT = "bows-tied-autoencoder"
FORMAT_VERSION = 1

WEIGHTS = "model.safetensors"
MODEL_CONFIG = "config.json"
RUN = "run.json"
VOCAB = "vocab.tsv"
CARD = "README.md"
CRATE = "ro-crate-metadata.json"
RUN_CONFIG = "config.yaml"
CRITERIA = "criteria.json"
TABLES_DIR = "metrics"
WORKFLOW_DIR = "workflow"

#: the grid's metric tables an export ships (written by rule metrics_sweep; docs/metrics.md describes them)
TABLES = ("metrics_all", "sweep", "sweep_summary", "losses", "loss_fit", "clusters", "subspace")


def model_dir(root: str | Path, spec: ModelSpec) -> Path:
    """The folder of one model in an export."""
    return Path(root) / spec.tag


def table_files(name: str) -> tuple[str, str]:
    """(parquet, CSV) of a metric table, relative to the export folder."""
    return f"{TABLES_DIR}/{name}.parquet", f"{TABLES_DIR}/{name}.csv"
