"""The numbers the report's caption quotes: per reference, its best layer and the months model's alignment there.

Written into the references' ``criteria.json`` (key ``report_numbers``) by the criteria stage; read back when the
workflow is parsed, so that the report built after a run quotes that run's values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["summary_values", "read_summary"]

METRICS = ("rsa", "cka", "procrustes", "partial_rsa")
SCOPES = ("Months", "Days", "Top words")


def _clean(x: Any) -> Any:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return x
    return v if math.isfinite(v) else None


def summary_values(geometry, alignment, references: Sequence[str], months_model: str) -> dict[str, Any]:
    """Per reference: best layer for the months, its ring numbers, the ring at every layer, and the months model's
    RSA / CKA / Procrustes / partial RSA there for the months and the top words (value, null band, p, words)."""
    from .layers import best_layer, ring_by_layer

    out: dict[str, Any] = {}
    for ref in references:
        best = best_layer(geometry, ref, "Months")
        rings = ring_by_layer(geometry, ref, "Months")
        entry: dict[str, Any] = {
            "best_layer": best.layer if best else None,
            "adjacent": _clean(best.adjacent) if best else None,
            "n_months": best.n_words if best else None,
            "ring_by_layer": {str(r.layer): _clean(r.ring_adjacent_pairs) for r in rings.itertuples()},
            "alignment": {},
        }
        if best is not None:
            sub = alignment[
                (alignment["object"] == months_model)
                & (alignment["reference"] == ref)
                & (alignment["layer"] == best.layer)
            ]
            for scope, rows in sub[sub["scope"].isin(SCOPES)].groupby("scope"):
                entry["alignment"][str(scope)] = {
                    str(r.metric): {
                        "value": _clean(r.value),
                        "p": _clean(r.p),
                        "null_lo": _clean(r.null_lo),
                        "null_hi": _clean(r.null_hi),
                        "n_words": int(r.n_words),
                    }
                    for r in rows.itertuples()
                    if r.metric in METRICS
                }
        out[ref] = entry
    return out


def read_summary(path: str | Path) -> dict[str, Any]:
    """The ``report_numbers`` of the references' criteria file, or {} before the first run (or for an
    unreadable file)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")).get("report_numbers", {})
    except (OSError, ValueError):
        return {}
