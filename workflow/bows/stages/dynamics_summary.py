"""Rule metrics_dynamics_all: every model's dynamics in one tidy table, and when each trajectory settles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    tables=("dynamics", "dynamics_settle"),
    sections=(Section("dynamics", only=("settle_fraction",)),),
)


def run_summary(
    tables: Sequence[str], out: Mapping[str, str], fraction: float, config: Mapping[str, Any] | None = None
) -> None:
    """Concatenate the per-model ``dynamics`` tables and write the settling table beside them."""
    import pandas as pd

    from ..metrics.dynamics import DYNAMICS_COLUMNS, settle_table
    from ..metrics.tables import save

    frames = [pd.read_parquet(p) for p in tables]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DYNAMICS_COLUMNS)
    ins = {f"model_{k}": p for k, p in enumerate(tables)}
    save(table, out["dynamics"], config, ins)
    save(settle_table(table, fraction), out["dynamics_settle"], config, ins)


def run(job: Job) -> None:
    run_summary(
        tables=list(job.input.tables),
        out=job.tables(STAGE.tables),
        fraction=float(job.config["dynamics"]["settle_fraction"]),
        config=job.config,
    )
