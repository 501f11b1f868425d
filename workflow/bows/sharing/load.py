"""``bows.load(path_or_repo_id)``: the models and vocabulary of a shared grid, in a notebook.

::

    import bows

    grid = bows.load("results/wiki-bundled/export/V5000_G20_S1")  # or a hub repository: "owner/name"
    grid.specs                                                    # every model, as bows.grid.ModelSpec
    model = grid.model(latent=400, weight_decay=4.0)              # the one model matching these fields
    model.W, model.b, model.config                                # numpy float32 [L, V], [V]; its config.json
    grid.vocab                                                    # index, word, count, forced (column i = word i)
    grid.table("sweep_summary"), grid.criteria                    # the run's metric tables and criteria
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ExportError
from ..grid import ModelSpec
from ..io import read_json
from . import layout
from .source import export_models, resolve

__all__ = ["SharedModel", "SharedGrid", "load"]


@dataclass
class SharedModel:
    """One model of a shared grid: ``W`` [L, V] and ``b`` [V] (float32), its settings (config.json)."""

    spec: ModelSpec
    W: np.ndarray
    b: np.ndarray
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def E(self) -> np.ndarray:
        """Wᵀ [V, L]: row i is word i's vector w_i (the paper's figures)."""
        return self.W.T


class SharedGrid:
    """An export folder, read lazily: weights load when a model is asked for."""

    def __init__(self, root: str | os.PathLike, source: str | None = None, revision: str | None = None):
        self.path = Path(root)
        self.source = source if source is not None else str(root)
        self.revision = revision
        self._models = export_models(self.path)

    def __repr__(self) -> str:
        return f"SharedGrid({self.source!r}, {len(self)} models)"

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self.specs)

    def __contains__(self, spec: object) -> bool:
        return spec in self._models

    @property
    def specs(self) -> list[ModelSpec]:
        return sorted(self._models)

    @cached_property
    def vocab(self):
        """The vocabulary (pandas: index, word, count, forced); column i of every W is word i."""
        from ..vocab import read_vocab

        return read_vocab(self.path / layout.VOCAB)

    @property
    def words(self) -> list[str]:
        return list(self.vocab["word"])

    @cached_property
    def config(self) -> dict[str, Any]:
        """The configuration of the run that made the export (its config.yaml), or {} when absent."""
        import yaml

        path = self.path / layout.RUN_CONFIG
        return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}

    @cached_property
    def criteria(self) -> dict[str, Any] | None:
        path = self.path / layout.CRITERIA
        return read_json(path) if path.is_file() else None

    def table(self, name: str):
        """One of the grid's metric tables (``layout.TABLES``) as a pandas DataFrame."""
        import pandas as pd

        parquet, _ = layout.table_files(name)
        path = self.path / parquet
        if not path.is_file():
            have = sorted(p.stem for p in (self.path / layout.TABLES_DIR).glob("*.parquet"))
            raise ExportError(f"the export has no table {name!r}", f"use one of {have}")
        return pd.read_parquet(path)

    def spec(
        self,
        variant: str | None = "relu",
        latent: int | None = None,
        weight_decay: float | None = None,
        seed: int | None = None,
    ) -> ModelSpec:
        """The one model whose fields equal those given (None: any; the variant is the paper's relu unless named)."""
        wanted = {"variant": variant, "latent": latent, "weight_decay": weight_decay, "seed": seed}
        matches = [
            s
            for s in self.specs
            if all(
                value is None or (float(getattr(s, k)) == float(value) if k != "variant" else s.variant == value)
                for k, value in wanted.items()
            )
        ]
        if len(matches) != 1:
            given = ", ".join(f"{k}={v!r}" for k, v in wanted.items() if v is not None) or "no fields"
            found = "no model" if not matches else f"{len(matches)} models"
            raise ExportError(
                f"{found} of {self.source} match {given}",
                "name the model by its fields (variant, latent, weight_decay, seed); it holds "
                + ", ".join(s.tag for s in self.specs),
            )
        return matches[0]

    def weights(self, spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
        """(W [L, V], b [V]) of one model, float32."""
        from ..model_files import load_weights

        if spec not in self._models:
            raise ExportError(
                f"{self.source} has no model {spec.tag}", "use one of " + ", ".join(s.tag for s in self.specs)
            )
        return load_weights(layout.model_dir(self.path, spec) / layout.WEIGHTS)

    def model(self, spec: ModelSpec | None = None, **fields: Any) -> SharedModel:
        """One model with its weights: by :class:`ModelSpec`, or by fields (``variant``, ``latent``,
        ``weight_decay``, ``seed``) that single it out."""
        spec = spec if spec is not None else self.spec(**fields)
        W, b = self.weights(spec)
        return SharedModel(spec, W, b, dict(self._models[spec]))

    def validate(self) -> None:
        """Check the export against its RO-Crate: every file listed, with the checksum it has (raises
        :class:`~bows.errors.ExportError` naming what differs)."""
        from .crate import validate_crate

        validate_crate(self.path)


def load(
    source: str | os.PathLike,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    validate: bool = False,
) -> SharedGrid:
    """A shared grid: an export folder, or a Hugging Face hub repository (``owner/name``, at ``revision``; fetched
    with ``huggingface_hub.snapshot_download`` into the hub cache, or ``cache_dir``; offline from the cache with
    ``HF_HUB_OFFLINE=1``). ``validate``: check every file against the export's RO-Crate first."""
    root = resolve(source, revision, cache_dir)
    grid = SharedGrid(root, source=str(source), revision=revision)
    if validate:
        grid.validate()
    return grid
