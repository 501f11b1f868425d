"""Claims of the references analysis: does co-occurrence explain the month geometry of a real language model?

Three claims per reference in ``references.use``, evaluated by the claims engine (:mod:`bows.claims`: pass, fail,
not applicable with the reason, or error), each record keyed by its reference:

1. ``references.ring``: the reference's months form a ring at some layer: at its best layer
   (:func:`bows.references.layers.best_layer`, chosen from its own geometry) at least
   ``reference_ring_min_adjacent_of_12`` consecutive months (scaled by n/12) are adjacent on the first two PCs. A
   check of the reference, not of BOWS.
2. ``references.alignment``: the months model's (``analysis.models.months``) month geometry aligns with the
   reference's at that layer beyond chance: RSA > 0 with Mantel p ≤ ``reference_alignment_max_p``.
3. ``references.beyond_pmi``: it does so beyond the data's PMI geometry: partial RSA (controlling for the PPMI
   rows' geometry) > 0 with its permutation p ≤ ``reference_alignment_max_p``.

A p-value can never fall below 1/(1 + permutations); with too few permutations to reach the threshold the claim
is not applicable, never failed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from ..claims import Claim, NotApplicable, Outcome, Record, evaluate
from ..references.layers import BestLayer, best_layer

__all__ = ["reference_criteria", "CLAIMS", "CLAIMED_AT"]

MONTHS = "Months"
CLAIMED_AT = {
    "ring": "language models (Engels et al., 2024: circular month features in GPT-2 and Mistral 7B; SmolLM2-135M "
    "on this project's bundled corpus: 12 of 12 at layers 2-24, docs/references.md)",
    "alignment": "the paper's account (Prieto et al., ICLR 2026, WikiText-103, V = 10,000): co-occurrence "
    "statistics shape the rings seen in language models",
    "beyond_pmi": "the paper's account against Karkada et al. (arXiv 2602.15029): the ring comes from co-occurrence "
    "structure beyond the direct PMI of the words",
}


class Inputs:
    """What the claims of one reference read: the geometry and alignment tables, the reference, the months model,
    the thresholds and the run's scale; the reference's best layer is found once."""

    def __init__(
        self,
        geometry: pd.DataFrame,
        alignment: pd.DataFrame,
        reference: str,
        months_model: str,
        thresholds: Mapping[str, float],
        scale: str,
    ):
        self.geometry, self.alignment = geometry, alignment
        self.reference, self.months_model, self.scale = reference, months_model, scale
        self.min_adjacent = float(thresholds["reference_ring_min_adjacent_of_12"])
        self.alpha = float(thresholds["reference_alignment_max_p"])
        self.best: BestLayer | None = best_layer(geometry, reference, MONTHS)

    @property
    def where(self) -> str:
        return f"{self.scale}; {self.reference}" + (f" at its best layer ({self.best.layer})" if self.best else "")


def ring_test(inp: Inputs) -> Outcome:
    best = inp.best
    if best is None or best.n_words < 4:
        raise NotApplicable("fewer than 4 months have a vector at any layer", evaluated_at=inp.where)
    need = int(math.ceil(inp.min_adjacent * best.n_words / 12 - 1e-9))
    reason = (
        f"{best.adjacent:.0f} of {best.n_words} consecutive months adjacent at {best.layer} "
        f"(order agreement {best.order_agreement:.2f}, circulant R² {best.circulant_r2:.2f})"
    )
    return Outcome(
        best.adjacent, need, best.adjacent >= need, inp.where, details={"ring": reason}, notes={"layer": best.layer}
    )


def _aligned(inp: Inputs, metric: str) -> Outcome:
    where = f"{inp.where}; months model {inp.months_model}"
    if inp.best is None:
        raise NotApplicable(
            f"{inp.reference} has no month geometry at any layer", threshold=inp.alpha, evaluated_at=where
        )
    a = inp.alignment
    m = (
        (a["object"] == inp.months_model)
        & (a["reference"] == inp.reference)
        & (a["layer"] == inp.best.layer)
        & (a["scope"] == MONTHS)
        & (a["metric"] == metric)
    )
    if not m.any():
        raise NotApplicable(
            f"no alignment of {inp.months_model} with {inp.reference} {inp.best.layer}",
            threshold=inp.alpha,
            evaluated_at=where,
        )
    row = a[m].iloc[0]
    value, p = float(row["value"]), float(row["p"])
    if not (math.isfinite(value) and math.isfinite(p)):
        raise NotApplicable(f"not computed: {row['status']}", threshold=inp.alpha, evaluated_at=where)
    floor = 1.0 / (1 + int(row["n_permutations"]))
    if floor > inp.alpha:
        raise NotApplicable(
            f"{int(row['n_permutations'])} permutations cannot give p <= {inp.alpha} (floor {floor:.3f})",
            value=p,
            threshold=inp.alpha,
            evaluated_at=where,
        )
    details = {
        metric: value,
        "p": p,
        "null_mean": float(row["null_mean"]),
        "null_band": [float(row["null_lo"]), float(row["null_hi"])],
        "n_months": int(row["n_words"]),
        "permutations": int(row["n_permutations"]),
        "words_left_out": "" if row["status"] == "ok" else str(row["status"]),
    }
    notes = {"layer": inp.best.layer, metric: value}
    return Outcome(p, inp.alpha, value > 0 and p <= inp.alpha, where, details=details, notes=notes)


def alignment_test(inp: Inputs) -> Outcome:
    return _aligned(inp, "rsa")


def beyond_pmi_test(inp: Inputs) -> Outcome:
    return _aligned(inp, "partial_rsa")


CLAIMS = [
    Claim(
        "references.ring",
        "The reference's months form a ring at some layer (first two PCs, consecutive months adjacent)",
        CLAIMED_AT["ring"],
        ring_test,
    ),
    Claim(
        "references.alignment",
        "The months model's month geometry aligns with the reference's at its best layer beyond chance "
        "(RSA > 0, Mantel permutation p <= threshold)",
        CLAIMED_AT["alignment"],
        alignment_test,
    ),
    Claim(
        "references.beyond_pmi",
        "... and beyond the data's PMI geometry (partial RSA given the PPMI rows > 0, permutation p <= threshold)",
        CLAIMED_AT["beyond_pmi"],
        beyond_pmi_test,
    ),
]


def reference_criteria(
    geometry: pd.DataFrame,
    alignment: pd.DataFrame,
    references: Sequence[str],
    months_model: str,
    thresholds: Mapping[str, float],
    scale: str,
) -> list[Record]:
    """The three claims for every reference (module docstring); ``scale`` describes the run (corpus, V, G)."""
    records: list[Record] = []
    for ref in references:
        try:
            inp = Inputs(geometry, alignment, ref, months_model, thresholds, scale)
        except Exception as err:  # noqa: BLE001 - a broken table: every claim of this reference is an error
            records += [
                Record(
                    c.id,
                    c.claim,
                    None,
                    None,
                    "error",
                    c.claimed_at,
                    "",
                    f"{type(err).__name__}: {err}",
                    keys={"reference": ref},
                )
                for c in CLAIMS
            ]
            continue
        records += evaluate(CLAIMS, inp, keys={"reference": ref})
    return records
