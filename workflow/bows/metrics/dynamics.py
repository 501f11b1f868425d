"""Training dynamics: the geometry metrics of a model at each of its snapshots over training (docs/dynamics.md).

Per snapshot (W, b after s optimiser steps), every quantity by its existing definition:

- ``heldout_loss``: the training loss on the held-out windows, as the trainer evaluates it (:func:`heldout_loss`:
  the model's formula :func:`bows.model.reference_loss`, mean over all B×V entries, empty windows dropped, at most
  ``train.eval_batches`` batches); at the last snapshot it is run.json's final held-out loss;
- ``decay_exposure``: wd · Σ_{t < s} lr_t (:func:`bows.exposure.exposure_reached`), and ``lr_sum`` = Σ_{t < s} lr_t
  (the exposure at wd 1, also for the wd 0 models);
- scope ``subspace``: ‖W‖²_F/L, the random baseline L/V, the overlaps with the principal subspaces and their excess
  (:func:`bows.metrics.subspace.subspace_metrics`);
- ``effective_rank`` of W (:func:`bows.metrics.peers.effective_rank`);
- per cyclic word group (Months, Days): ``ring_adjacent_pairs`` of the unit-vector PCA ring
  (:func:`bows.metrics.geometry.unit_ring_angles`, :func:`~bows.metrics.geometry.adjacent_pairs`) out of
  ``n_found``, and ``order_agreement`` with its shuffled-order null (:func:`bows.metrics.data_stats.order_rows`).

The table is tidy (one row per model × snapshot × scope × metric, with the snapshot's index and step).
:func:`settle_step` says when a trajectory has settled: the first snapshot from which it stays within a fraction of
its total change of its final value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..grid import ModelSpec
from ..snapshots import figure_latent_of
from . import geometry as geo
from .data_stats import order_rows
from .peers import effective_rank
from .subspace import subspace_metrics
from .tables import TIDY_COLUMNS, Rows
from .words import Group

__all__ = [
    "DYNAMICS_COLUMNS",
    "heldout_batches",
    "heldout_loss",
    "snapshot_rows",
    "dynamics_table",
    "settle_step",
    "settle_table",
    "SETTLE_METRICS",
    "figure_latent",
    "figure_settle",
]

DYNAMICS_COLUMNS = TIDY_COLUMNS[:5] + ["snapshot", "step"] + TIDY_COLUMNS[5:]

#: (scope, metric) of the trajectories whose settling step is reported
SETTLE_METRICS = (
    ("model", "heldout_loss"),
    ("subspace", "frob2_per_latent"),
    ("subspace", "overlap_cov"),
    ("subspace", "excess_cov"),
    ("model", "effective_rank"),
)


def heldout_batches(
    windows: Any,
    idx: np.ndarray,
    batch_size: int,
    encoding: str = "binary",
    max_batches: int | None = None,
    block: int = 1024,
) -> Iterator[np.ndarray]:
    """Dense float32 [B, V] blocks of the windows the trainer evaluates: ``idx`` in order, at most ``max_batches``
    batches of ``batch_size``, empty windows dropped. The blocks hold ``block`` windows (the mean loss over all
    entries does not depend on how they are grouped; large blocks make fast products)."""
    idx = np.asarray(idx, dtype=np.int64)
    if max_batches:
        idx = idx[: int(max_batches) * int(batch_size)]
    V = int(windows.vocab_size)
    for start in range(0, len(idx), int(block)):
        offsets, cols, values = windows.batch_values(idx[start : start + int(block)], encoding)
        counts = np.diff(offsets)
        rows = np.repeat(np.arange(len(counts)), counts)
        x = np.zeros((len(counts), V), dtype=np.float32)
        x[rows, np.asarray(cols, dtype=np.int64)] = values
        x = x[counts > 0]
        if len(x):
            yield x


def heldout_loss(
    snapshots: Sequence[tuple[np.ndarray, np.ndarray]],
    batches: Iterable[np.ndarray],
    variant: str = "relu",
    latent_relu: bool = False,
    loss: str = "mse",
) -> list[float]:
    """The held-out loss of every (W, b) of ``snapshots``: Σ_batches loss(batch)·B / Σ B, the loss being
    :func:`bows.model.reference_loss` (mean over the batch's B×V entries). One pass over the batches."""
    import torch

    from ..model import reference_loss

    tensors = [(torch.from_numpy(np.asarray(W)), torch.from_numpy(np.asarray(b))) for W, b in snapshots]
    totals = np.zeros(len(tensors))
    rows = 0
    with torch.no_grad():
        for x in batches:
            xt = torch.from_numpy(x)
            for k, (W, b) in enumerate(tensors):
                totals[k] += float(reference_loss(W, b, xt, variant, latent_relu, loss)) * len(x)
            rows += len(x)
    return [float(t / rows) if rows else float("nan") for t in totals]


def snapshot_rows(
    spec: ModelSpec,
    W: np.ndarray,
    sub: Mapping[str, Any] | None,
    groups: Mapping[str, Group],
    n_perm: int,
    seed: int,
) -> Rows:
    """The geometry rows of one snapshot (loss and exposure are added by :func:`dynamics_table`)."""
    rows = Rows(spec)
    values, status = subspace_metrics(W, sub)
    always = ("frob2_per_latent", "random_baseline")
    rows.add_many("subspace", {k: values.pop(k) for k in always})
    rows.add_many("subspace", values, status=status)
    rows.add("model", "effective_rank", effective_rank(W))
    for name, g in groups.items():
        ok = g.found
        st = "ok" if ok.all() else f"{int((~ok).sum())} of {len(g.words)} words missing: {', '.join(g.missing)}"
        rows.add(name, "n_found", int(ok.sum()), status=st)
        if ok.sum() < 3:
            rows.add(name, "ring_adjacent_pairs", np.nan, status=f"fewer than 3 words found ({st})")
            continue
        angles = geo.unit_ring_angles(W[:, g.indices[ok]].T)
        rows.add(name, "ring_adjacent_pairs", geo.adjacent_pairs(angles), status=st)
        order_rows(rows, name, angles, n_perm, seed, st)
    return rows


def dynamics_table(
    spec: ModelSpec,
    steps: Sequence[int],
    snapshots: Sequence[tuple[np.ndarray, np.ndarray]],
    exposure: Sequence[float],
    lr_sums: Sequence[float],
    losses: Sequence[float],
    sub: Mapping[str, Any] | None,
    groups: Mapping[str, Group],
    n_perm: int,
    seed: int,
) -> pd.DataFrame:
    """The tidy dynamics table of one model: every snapshot's rows with its index and step."""
    frames = []
    for k, (step, (W, _b)) in enumerate(zip(steps, snapshots)):
        rows = snapshot_rows(spec, W, sub, groups, n_perm, seed)
        rows.add("model", "decay_exposure", float(exposure[k]))
        rows.add("model", "lr_sum", float(lr_sums[k]))
        rows.add("model", "heldout_loss", float(losses[k]))
        frame = rows.frame()
        frame.insert(5, "snapshot", k)
        frame.insert(6, "step", int(step))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=DYNAMICS_COLUMNS)
    return pd.concat(frames, ignore_index=True)[DYNAMICS_COLUMNS]


def settle_step(steps: Sequence[int], values: Sequence[float], fraction: float) -> float:
    """The first step from which ``values`` stay within ``fraction`` of their total change |v_last − v_first| of
    the last value; the first step when they never move, NaN when any value is missing."""
    v = np.asarray(values, dtype=np.float64)
    s = np.asarray(steps, dtype=np.float64)
    if v.size == 0 or not np.all(np.isfinite(v)):
        return float("nan")
    band = float(fraction) * abs(v[-1] - v[0])
    outside = np.flatnonzero(np.abs(v - v[-1]) > band)
    return float(s[0] if outside.size == 0 else s[min(outside[-1] + 1, len(s) - 1)])


def settle_table(table: pd.DataFrame, fraction: float) -> pd.DataFrame:
    """Per model and trajectory of :data:`SETTLE_METRICS`: first and last value, the settling step and the decay
    exposure reached there."""
    out = []
    for model, sub in table.groupby("model", sort=True):
        exposure = sub[(sub["scope"] == "model") & (sub["metric"] == "decay_exposure")].set_index("step")["value"]
        first = sub.iloc[0]
        for scope, metric in SETTLE_METRICS:
            traj = sub[(sub["scope"] == scope) & (sub["metric"] == metric)].sort_values("step")
            if traj.empty:
                continue
            step = settle_step(traj["step"].to_numpy(), traj["value"].to_numpy(), fraction)
            out.append(
                {
                    "model": model,
                    "variant": first["variant"],
                    "latent": first["latent"],
                    "wd": first["wd"],
                    "seed": first["seed"],
                    "scope": scope,
                    "metric": metric,
                    "first": float(traj["value"].iloc[0]),
                    "last": float(traj["value"].iloc[-1]),
                    "settle_step": step,
                    "settle_exposure": float(exposure.get(int(step), np.nan)) if np.isfinite(step) else np.nan,
                    "last_step": int(traj["step"].iloc[-1]),
                    "fraction": float(fraction),
                }
            )
    return pd.DataFrame(out)


def figure_latent(table: pd.DataFrame, latent: int | None = None) -> int | None:
    """The latent size the dynamics figure draws: ``latent`` if given, else the ReLU latent size with the most
    weight decays (the largest such); None when no ReLU model has snapshots."""
    relu = table[table["variant"] == "relu"]
    return figure_latent_of(zip(relu["latent"], relu["wd"]), latent)


def figure_settle(settle: pd.DataFrame, latent: int | None = None) -> pd.DataFrame:
    """The settling of the figure's models, as its caption quotes it: the ReLU models of the figure's latent size
    (smallest seed per weight decay), one row per weight decay and trajectory; empty when there are none."""
    columns = ["latent", "wd", "metric", "first", "last", "settle_step", "last_step", "settle_exposure"]
    L = figure_latent(settle, latent) if not settle.empty else None
    if L is None:
        return pd.DataFrame(columns=columns)
    t = settle[(settle["variant"] == "relu") & (settle["latent"].astype(int) == L)]
    t = t[t["seed"] == t.groupby("wd")["seed"].transform("min")].sort_values(["wd", "scope", "metric"])
    return t[columns].reset_index(drop=True)
