"""The two tables of the references analysis: one geometry for every object, and every object's alignment with every
reference layer.

Scopes of the alignment: each configured word group (its words found in the BOWS vocabulary) and ``Top words``, the
``references.top_words`` most frequent words of the BOWS vocabulary that every object and every reference layer
has a vector for. A comparison uses the scope's words that the object, the reference layer and the data's PPMI rows
(the control of the partial RSA) all have; the words it leaves out are listed in its status with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..metrics.alignment import align, dissimilarity
from ..metrics.object_geometry import object_geometry
from ..metrics.words import Group
from .objects import CompareObject
from .words import TOP_SCOPE, top_words

log = logging.getLogger("bows.references")

__all__ = ["geometry_tables", "alignment_table", "alignment_scopes", "ALIGNMENT_COLUMNS", "PMI_CONTROL", "MIN_WORDS"]

PMI_CONTROL = "data/ppmi"
MIN_WORDS = 4  # fewer words give too few pairs for a rank correlation (the Mantel test's minimum elsewhere too)
ALIGNMENT_COLUMNS = [
    "object",
    "kind",
    "reference",
    "layer",
    "layer_index",
    "scope",
    "metric",
    "value",
    "null_mean",
    "null_sd",
    "null_lo",
    "null_hi",
    "p",
    "n_words",
    "n_permutations",
    "status",
]


def geometry_tables(
    objects: Sequence[CompareObject],
    words: Sequence[str],
    groups: Mapping[str, Group],
    cooc: pd.DataFrame | None,
    n_perm: int,
    seed: int,
    knn_k: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(geometry, coords) of every object with vectors (the unigram control is a geometry of dissimilarities
    only and has no ring or cluster measures)."""
    metrics, coords = [], []
    for obj in objects:
        if obj.dissimilarity is not None:
            continue
        m, c = object_geometry(
            obj.E, words, groups, obj.name, obj.kind, obj.layer, obj.layer_index, cooc, n_perm, seed, knn_k
        )
        metrics.append(m)
        coords.append(c)
    return pd.concat(metrics, ignore_index=True), pd.concat(coords, ignore_index=True)


def alignment_scopes(
    groups: Mapping[str, Group], words: Sequence[str], counts_by_word: Mapping[str, float], k: int
) -> dict[str, list[str]]:
    """Scope → its words (BOWS forms): every group's found words, then the ``k`` most frequent analysed words."""
    scopes = {name: [m for m, i in zip(g.matched, g.indices) if i >= 0] for name, g in groups.items()}
    if k > 0:
        present = [w for w in words if w in counts_by_word]
        counts = np.array([counts_by_word[w] for w in present], dtype=np.float64)
        scopes[TOP_SCOPE] = [present[i] for i in top_words(counts, k)]
    return scopes


def _reasons(
    scope_words: Sequence[str], pos: Mapping[str, int], checks: Sequence[tuple[str, np.ndarray]]
) -> tuple[list[int], list[str]]:
    """(rows of the words every check has, "word (not in X)" for the others)."""
    keep, left = [], []
    for w in scope_words:
        k = pos[w]
        lacking = [name for name, avail in checks if not avail[k]]
        if lacking:
            left.append(f"{w} (no vector in {', '.join(lacking)})")
        else:
            keep.append(k)
    return keep, left


def alignment_table(
    objects: Sequence[CompareObject],
    words: Sequence[str],
    scopes: Mapping[str, Sequence[str]],
    n_perm: int,
    seed: int,
) -> pd.DataFrame:
    """RSA, CKA, Procrustes and partial RSA (given the data's PPMI geometry) of every non-reference object against
    every layer of every reference, per scope (module docstring)."""
    pos = {w: k for k, w in enumerate(words)}
    refs: dict[str, list[CompareObject]] = {}
    for obj in objects:
        if obj.kind == "reference":
            refs.setdefault(obj.name, []).append(obj)
    control = next((o for o in objects if o.name == PMI_CONTROL), None)
    others = [o for o in objects if o.kind != "reference"]
    top = scopes.get(TOP_SCOPE)
    if top is not None:  # words every object and every layer has
        every = np.logical_and.reduce([o.available for o in objects])
        scopes = {**scopes, TOP_SCOPE: [w for w in top if every[pos[w]]]}
        left = [w for w in top if not every[pos[w]]]
        if left:
            log.info("top words without a vector somewhere, left out: %s", ", ".join(left))
    rows: list[dict] = []
    for obj in others:
        for ref_name, layers in refs.items():
            for scope, scope_words in scopes.items():
                rows += _compare(obj, ref_name, layers, scope, scope_words, control, pos, n_perm, seed)
    return pd.DataFrame(rows, columns=ALIGNMENT_COLUMNS)


def _compare(
    obj: CompareObject,
    ref_name: str,
    layers: Sequence[CompareObject],
    scope: str,
    scope_words: Sequence[str],
    control: CompareObject | None,
    pos: Mapping[str, int],
    n_perm: int,
    seed: int,
) -> list[dict]:
    """Rows of one object against one reference's layers in one scope (layers with the same words share a batch)."""
    base = [(obj.name, obj.available)] + ([(PMI_CONTROL, control.available)] if control is not None else [])
    batches: dict[tuple[int, ...], list[CompareObject]] = {}
    for layer in layers:
        keep, _ = _reasons(scope_words, pos, base + [(f"{ref_name} {layer.layer}", layer.available)])
        batches.setdefault(tuple(keep), []).append(layer)
    out = []
    for keep, batch in batches.items():
        _, left = _reasons(scope_words, pos, base + [(f"{ref_name} {batch[0].layer}", batch[0].available)])
        status = "ok" if not left else f"{len(left)} of {len(scope_words)} words left out: {'; '.join(left)}"
        idx = np.array(keep, dtype=np.int64)
        common = {"object": obj.name, "kind": obj.kind, "reference": ref_name, "scope": scope, "n_words": len(idx)}
        if len(idx) < MIN_WORDS:
            reason = f"fewer than {MIN_WORDS} words with every vector ({status})"
            for layer in batch:
                for metric in ("rsa", "cka", "procrustes", "partial_rsa"):
                    out.append(_row(common, layer, metric, float("nan"), None, 0, reason))
            continue
        X = np.asarray(obj.E, dtype=np.float64)[idx]
        DX = obj.dissimilarity[np.ix_(idx, idx)] if obj.dissimilarity is not None else dissimilarity(X)
        is_control = control is not None and obj.name == control.name
        DZ = None if control is None or is_control else dissimilarity(np.asarray(control.E, dtype=np.float64)[idx])
        res = align(X, DX, [np.asarray(layer.E, dtype=np.float64)[idx] for layer in batch], DZ, n_perm, seed)
        for k, layer in enumerate(batch):
            out.append(_row(common, layer, "rsa", res.rsa[k].value, res.rsa[k], n_perm, status))
            out.append(_row(common, layer, "cka", res.cka[k].value, res.cka[k], n_perm, status))
            out.append(_row(common, layer, "procrustes", res.procrustes[k], None, 0, status))
            if res.partial is None:
                why = "the object is the PMI control itself" if is_control else "no PMI control"
                out.append(_row(common, layer, "partial_rsa", float("nan"), None, 0, why))
            else:
                out.append(_row(common, layer, "partial_rsa", res.partial[k].value, res.partial[k], n_perm, status))
    return out


def _row(common: dict, layer: CompareObject, metric: str, value: float, null, n_perm: int, status: str) -> dict:
    finite = np.isfinite(value)
    return {
        **common,
        "layer": layer.layer,
        "layer_index": layer.layer_index,
        "metric": metric,
        "value": float(value),
        "null_mean": null.mean if null is not None else np.nan,
        "null_sd": null.sd if null is not None else np.nan,
        "null_lo": null.lo if null is not None else np.nan,
        "null_hi": null.hi if null is not None else np.nan,
        "p": null.p if null is not None else np.nan,
        "n_permutations": int(n_perm),
        "status": status if finite or status != "ok" else "undefined",
    }
