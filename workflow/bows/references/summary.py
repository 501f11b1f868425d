"""The numbers the report's captions quote: per reference, its best layer and the months model's alignment there.

Written into the references' ``criteria.json`` (key ``report_numbers``) by the criteria stage, and as one sentence
per reference (:func:`this_run_sentence`) into the report table ``references_this_run.tsv`` that the figures'
captions quote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["summary_values", "this_run_sentence", "write_this_run"]

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


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "–" if x is None else format(x, spec)


def this_run_sentence(ref: str, entry: dict[str, Any]) -> str:
    """One reference's numbers as the captions quote them (reStructuredText): the months' adjacency at the
    reference's best layer and the months model's RSA, CKA and partial RSA there."""
    if entry.get("adjacent") is None:
        return f"**{ref}**: the months are not measurable."
    text = f"**{ref}**: the months are {entry['adjacent']:.0f}/{entry['n_months']} adjacent at its best layer "
    text += f"({entry['best_layer']})"
    months = entry.get("alignment", {}).get("Months", {})
    rsa, cka, partial = (months.get(m, {}) for m in ("rsa", "cka", "partial_rsa"))
    if rsa.get("value") is not None:
        text += f"; there the months model's RSA is {_fmt(rsa['value'])} (p = {_fmt(rsa.get('p'), '.3f')})"
        text += f", CKA {_fmt(cka.get('value'))}"
        if partial.get("value") is not None:
            text += f", partial RSA given PPMI {_fmt(partial['value'])} (p = {_fmt(partial.get('p'), '.3f')})"
    return text + "."


def write_this_run(numbers: dict[str, Any], path: str | Path) -> None:
    """The report table of :func:`this_run_sentence`: ``reference<TAB>this_run``, one row per reference."""
    from ..io import write_text

    rows = [f"{ref}\t{this_run_sentence(ref, entry)}" for ref, entry in numbers.items()]
    write_text(path, "\n".join(["reference\tthis_run", *rows]) + "\n")
