"""Months in the model (paper §6.2, §6.3, §10 items 5–7): weight rings and the seasonal words.

Seasonal square (§6.3): a centred 3-PC PCA of the raw month rows; each seasonal word s is projected with the same
mean μ and axes; its share of variance in the month plane is 1 − ‖(w_s − μ) − Π₂(w_s − μ)‖² / ‖w_s − μ‖² and its
angularly nearest month is the month whose PC1–2 angle (about μ) is closest. Expected months (§10 item 6):
winter words Nov–Feb, spring words Feb–Jun, summer May–Sep, autumn words Aug–Dec.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import geometry as geo
from .words import Group

__all__ = ["SEASON_MONTHS", "seasonal_table", "ring_table"]

SEASON_MONTHS = {
    "winter": [10, 11, 0, 1],
    "spring": [1, 2, 3, 4, 5],
    "summer": [4, 5, 6, 7, 8],
    "autumn": [7, 8, 9, 10, 11],
}


def ring_table(W: np.ndarray, months: Group, data_ring: pd.DataFrame | None) -> pd.DataFrame:
    """Fig 4b/4c coordinates: data ring (from the data stage), normalised and raw weight PCA of the months."""
    parts = []
    if data_ring is not None and len(data_ring):
        d = data_ring[data_ring["group"] == months.name]
        parts.append(
            pd.DataFrame(
                {
                    "source": "data",
                    "word": d["word"],
                    "pos": d["pos"],
                    "pc1": d["pc1"],
                    "pc2": d["pc2"],
                    "status": d["status"],
                }
            )
        )
    ok = months.found
    if ok.sum() >= 3:
        E = W[:, months.indices[ok]].T.astype(np.float64)
        n = np.linalg.norm(E, axis=1, keepdims=True)
        for src, X in (("weights_norm", E / (n + 1e-8)), ("weights_raw", E)):
            P = geo.pca(X, 2).scores
            parts.append(
                pd.DataFrame(
                    {
                        "source": src,
                        "word": np.array(months.words)[ok],
                        "pos": np.flatnonzero(ok),
                        "pc1": P[:, 0],
                        "pc2": P[:, 1],
                        "status": "ok",
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=["source", "word", "pos", "pc1", "pc2", "status"])
    return pd.concat(parts, ignore_index=True)


def _angdiff(a: np.ndarray, b: float) -> np.ndarray:
    return np.abs((a - b + np.pi) % (2 * np.pi) - np.pi)


SEASONAL_COLUMNS = [
    "word",
    "kind",
    "season",
    "pos",
    "pc1",
    "pc2",
    "pc3",
    "plane_share",
    "nearest_month",
    "expected_months",
    "in_expected",
    "status",
]


def _row(word: str, kind: str, **values: Any) -> dict[str, Any]:
    """One row of the seasonal table: the given values over an empty row (NaN coordinates, no month)."""
    empty = {"season": "", "pos": -1, "pc1": np.nan, "pc2": np.nan, "pc3": np.nan, "plane_share": np.nan}
    empty |= {"nearest_month": "", "expected_months": "", "in_expected": None, "status": "ok"}
    return {"word": word, "kind": kind, **empty, **values}


def _seasonal_row(
    W: np.ndarray, p: Any, months: Group, month_angles: np.ndarray, month_pos: np.ndarray, item: tuple[str, str, int]
) -> dict[str, Any]:
    """A seasonal word placed in the months' PC space: its coordinates, the share of its norm in the ring's plane
    and the month nearest in angle, and whether that month is one of its season's."""
    word, season, idx = item
    expected = SEASON_MONTHS.get(season, [])
    names = "|".join(months.words[k][:3] for k in expected if k < len(months.words))
    if idx < 0:
        return _row(word, "seasonal", season=season, expected_months=names, status="missing: word not in vocabulary")
    x = W[:, idx].astype(np.float64) - p.mean
    c = p.components @ x
    total = float(x @ x)
    share = float((c[0] ** 2 + c[1] ** 2) / total) if total > 0 else np.nan
    nearest = int(month_pos[int(np.argmin(_angdiff(month_angles, np.arctan2(c[1], c[0]))))])
    return _row(
        word,
        "seasonal",
        season=season,
        pc1=c[0],
        pc2=c[1],
        pc3=c[2],
        plane_share=share,
        nearest_month=months.words[nearest],
        expected_months=names,
        in_expected=nearest in expected,
    )


def seasonal_table(
    W: np.ndarray, months: Group, seasonal: list[tuple[str, str, int]]
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Months + seasonal words in the months' 3-PC space. ``seasonal`` = (word, season, vocab index or -1)."""
    ok = months.found
    if ok.sum() < 4:
        return pd.DataFrame(columns=SEASONAL_COLUMNS), {"seasonal_in_expected": np.nan}
    p = geo.pca(W[:, months.indices[ok]].T.astype(np.float64), 3)
    month_pos = np.flatnonzero(ok)
    month_angles = np.arctan2(p.scores[:, 1], p.scores[:, 0])
    rows = [
        _row(w, "month", pos=int(k), pc1=s[0], pc2=s[1], pc3=s[2])
        for w, k, s in zip(np.array(months.words)[ok], month_pos, p.scores)
    ]
    placed = [_seasonal_row(W, p, months, month_angles, month_pos, item) for item in seasonal]
    rows += placed
    found = [r for r in placed if r["in_expected"] is not None]
    met = {
        "seasonal_in_expected": float(sum(r["in_expected"] for r in found)) if found else np.nan,
        "seasonal_found": float(len(found)),
        "seasonal_total": float(len(seasonal)),
    }
    for a in range(3):
        met[f"evr_{a + 1}"] = float(p.explained_variance_ratio[a])
    return pd.DataFrame(rows, columns=SEASONAL_COLUMNS), met
