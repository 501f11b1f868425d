"""The co-occurrence ablation's numbers: one table over the window sets, and its criterion.

The table has one row per window set (full, ablated, control; :mod:`bows.ablation`) × source × group: the data's
ring (``source`` = ``data``: the month-indicator PCA of ``metrics_data``, which sees only windows that hold months
together) and each ablation model's ring (``source`` = its tag: the PCA of its L2-normalised month rows, from
``metrics_model``), with the windows each set removed and kept. Ring columns are the metric tables' own values:
``adjacent_pairs`` (consecutive months adjacent in angular order), ``pairs_total`` (months placed), ``winding``,
``order_agreement`` A, its chance-corrected value (A − E₀[A]) / (1 − E₀[A]) under the shuffled-order null and that
null's p-value.

Criterion (:func:`ring_survival`): the model's ring survives the ablation relative to its control when its
chance-corrected order agreement on the ablated set is at least ``analysis.thresholds.ablation_min_ring_ratio``
times the control's; not applicable when the control shows no ring (null p above
``ablation_control_max_p``: nothing to survive), when the ablation removed no window, or when a ring is undefined.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..claims import Claim, NotApplicable, Outcome, Record, evaluate_one

__all__ = [
    "TABLE_COLUMNS",
    "summary_table",
    "ring_survival_test",
    "ring_survival",
    "ABLATION_CLAIMS",
    "CLAIM",
    "CLAIMED_AT",
    "caption_lines",
]

TABLE_COLUMNS = [
    "window_set",
    "source",
    "group",
    "windows_total",
    "windows_removed",
    "windows_kept",
    "adjacent_pairs",
    "pairs_total",
    "winding",
    "order_agreement",
    "order_agreement_corrected",
    "order_agreement_p",
    "status",
]

# table column → metric of the data and model tables (pairs_total: the data counts the months it places, the
# model table the months found in the vocabulary)
_RING = {
    "adjacent_pairs": "ring_adjacent_pairs",
    "winding": "ring_winding",
    "order_agreement": "order_agreement",
    "order_agreement_corrected": "order_agreement_corrected",
    "order_agreement_p": "order_agreement_p",
}
_PAIRS = {"data": "ring_pairs_total", "model": "n_found"}

CLAIM = (
    "the model's ring of a cyclic group survives removing every training window that holds two of its words, "
    "relative to a size-matched random drop"
)
CLAIMED_AT = (
    "Karkada et al. 2026 (arXiv 2602.15029): the month circle of word embeddings survives removing every context "
    "in which two months occur together"
)


def _value(df: pd.DataFrame | None, group: str, metric: str) -> tuple[float, str]:
    """(value, status) of one metric of ``group`` in a tidy table; NaN and "missing" when absent."""
    if df is None or not len(df):
        return float("nan"), "missing: no table"
    row = df[(df["scope"] == group) & (df["metric"] == metric)]
    if not len(row):
        return float("nan"), f"missing: no {metric}"
    return float(row["value"].iloc[0]), str(row["status"].iloc[0])


def _ring_row(df: pd.DataFrame | None, group: str, kind: str) -> dict[str, Any]:
    values, statuses = {}, []
    for column, metric in {**_RING, "pairs_total": _PAIRS[kind]}.items():
        values[column], status = _value(df, group, metric)
        statuses.append(status)
    bad = [s for s in statuses if s != "ok"]
    return {**values, "status": bad[0] if bad else "ok"}


def summary_table(
    window_stats: Mapping[str, Mapping[str, Any]],
    data_metrics: Mapping[str, pd.DataFrame | None],
    model_metrics: Mapping[tuple[str, str], pd.DataFrame | None],
    groups: Sequence[str],
) -> pd.DataFrame:
    """The ablation table. ``window_stats``: window set → its ``windows.json`` (the full set's has
    ``train_windows``; the others ``full_train_windows``, ``removed_windows``, ``train_windows``); ``data_metrics``:
    window set → data metrics table; ``model_metrics``: (window set, model tag) → model metrics table."""
    full = int(window_stats["full"]["train_windows"])
    rows = []
    for wset, stats in window_stats.items():
        kept = int(stats["train_windows"])
        counts = {"windows_total": full, "windows_removed": full - kept, "windows_kept": kept}
        sources = [("data", "data", data_metrics.get(wset))]
        sources += [(tag, "model", df) for (s, tag), df in model_metrics.items() if s == wset]
        for source, kind, df in sources:
            for group in groups:
                rows.append(
                    {"window_set": wset, "source": source, "group": group, **counts, **_ring_row(df, group, kind)}
                )
    out = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return out.astype({c: "float64" for c in TABLE_COLUMNS[6:12]})


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _group_verdict(table: pd.DataFrame, model: str, group: str, th: Mapping[str, float]) -> dict[str, Any]:
    """Numbers and verdict of one group: ``ratio`` and ``passed``, or ``reason`` why it cannot be tested."""
    sub = table[(table["source"] == model) & (table["group"] == group)].set_index("window_set")
    if not {"ablated", "control"} <= set(sub.index):
        return {"reason": f"no {group} ring of {model} on the ablated and control sets"}
    abl, ctl = sub.loc["ablated"], sub.loc["control"]
    out = {
        "ablated_corrected": float(abl["order_agreement_corrected"]),
        "control_corrected": float(ctl["order_agreement_corrected"]),
        "control_p": float(ctl["order_agreement_p"]),
        "ablated_adjacent": float(abl["adjacent_pairs"]),
        "control_adjacent": float(ctl["adjacent_pairs"]),
        "pairs_total": float(ctl["pairs_total"]),
    }
    if "full" in sub.index:
        out["full_corrected"] = float(sub.loc["full", "order_agreement_corrected"])
    if int(abl["windows_removed"]) == 0:
        return {**out, "reason": f"the ablation removed no window for {group}"}
    if not all(_finite(out[k]) for k in ("ablated_corrected", "control_corrected", "control_p")):
        return {**out, "reason": f"the {group} ring of {model} is undefined"}
    if out["control_p"] > th["ablation_control_max_p"] or out["control_corrected"] <= 0:
        return {
            **out,
            "reason": f"the control model shows no {group} ring (order agreement p = {out['control_p']:.3g} > "
            f"{th['ablation_control_max_p']:g}): there is no ring to survive",
        }
    ratio = out["ablated_corrected"] / out["control_corrected"]
    return {**out, "ratio": ratio, "passed": bool(ratio >= th["ablation_min_ring_ratio"])}


def ring_survival_test(
    table: pd.DataFrame | None, thresholds: Mapping[str, float], model: str, groups: Sequence[str], scale: str = ""
) -> Outcome:
    """The claim's test (:mod:`bows.claims`): the ratio of ``model``'s chance-corrected order agreement, ablated over
    control, for each cyclic group of ``groups``; the value is the smallest ratio, and the claim passes when every
    testable group reaches ``ablation_min_ring_ratio``. Raises :class:`NotApplicable` when no group can be
    tested. ``scale`` (corpus, V, G) goes into ``evaluated_at``."""
    th = {k: float(thresholds[k]) for k in ("ablation_min_ring_ratio", "ablation_control_max_p")}
    threshold = {"min_ring_ratio": th["ablation_min_ring_ratio"], "control_max_p": th["ablation_control_max_p"]}
    where = f"{model} on {scale}" if scale else model
    if table is None or not len(table):
        raise NotApplicable("no ablation table", threshold=threshold, evaluated_at=where)
    if not groups:
        raise NotApplicable("no cyclic word group is ablated", threshold=threshold, evaluated_at=where)
    removed = table.loc[table["window_set"] == "ablated", ["windows_removed", "windows_total"]]
    if len(removed):
        where += f"; the ablation removed {int(removed.iloc[0, 0]):,} of {int(removed.iloc[0, 1]):,} training windows"
    verdicts = {g: _group_verdict(table, model, g, th) for g in groups}
    tested = {g: v for g, v in verdicts.items() if "ratio" in v}
    if not tested:
        reason = "; ".join(v["reason"] for v in verdicts.values())
        raise NotApplicable(reason, threshold=threshold, evaluated_at=where, groups=verdicts)
    value = min(v["ratio"] for v in tested.values())
    passed = all(v["passed"] for v in tested.values())
    return Outcome(value, threshold, passed, evaluated_at=where, details={"groups": verdicts})


ABLATION_CLAIMS = [Claim("ablation_ring", CLAIM, CLAIMED_AT, ring_survival_test)]


def ring_survival(
    table: pd.DataFrame | None, thresholds: Mapping[str, float], model: str, groups: Sequence[str], scale: str = ""
) -> Record:
    """The ablation criterion's :class:`~bows.claims.Record` (status pass, fail, not_applicable or error)."""
    return evaluate_one(ABLATION_CLAIMS[0], table, thresholds, model, groups, scale)


def caption_lines(table: pd.DataFrame, record: Record) -> dict[str, str]:
    """What the ablation's captions quote of a run (reStructuredText), by key: ``removed`` (windows removed of the
    training windows), ``rings`` (each row's chance-corrected order agreement and adjacency, or its status) and
    ``criterion`` (the record's status, value and reason)."""
    lines: dict[str, str] = {}
    ablated = table[table["window_set"] == "ablated"]
    if len(ablated):
        removed, total = int(ablated["windows_removed"].iloc[0]), int(ablated["windows_total"].iloc[0])
        share = 100 * removed / total if total else float("nan")
        lines["removed"] = f"{removed:,} of {total:,} training windows ({share:.1f} %)"
    rings = []
    for r in table.itertuples():
        where = f"{r.source} on {r.window_set}"
        if pd.notna(r.order_agreement_corrected):
            rings.append(
                f"{where}: A* = {r.order_agreement_corrected:.2f}, {r.adjacent_pairs:.0f}/{r.pairs_total:.0f} adjacent"
            )
        else:
            rings.append(f"{where}: {r.status}")
    if rings:
        lines["rings"] = "; ".join(rings) + "."
    criterion = f"Criterion ``{record.id}``: **{record.status}**"
    if record.value is not None:
        criterion += f" (ratio ablated / control {record.value:.2f}, threshold {record.threshold['min_ring_ratio']})"
    lines["criterion"] = criterion + (f": {record.reason}." if record.reason else ".")
    return lines
