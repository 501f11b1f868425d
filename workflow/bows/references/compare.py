"""The two tables of the references analysis: one geometry for every object, and every object's alignment with every
reference layer.

Scopes of the alignment: each configured word group (its words found in the BOWS vocabulary) and ``Top words``, the
``references.top_words`` most frequent words of the BOWS vocabulary that every object and every reference layer
has a vector for. RSA, CKA and Procrustes use the scope's words that the object and the reference layer both have;
the partial RSA those the data's PPMI rows (its control) have too; the words a comparison leaves out are listed in
its status with the reason.
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
    """Rows of one object against one reference's layers in one scope. RSA, CKA and Procrustes use the words the
    object and the layer have; the partial RSA those the PPMI control has too. Layers with the same words share a
    batch (one set of relabellings)."""
    is_control = control is not None and obj.name == control.name
    with_control = control is not None and not is_control
    batches: dict[tuple[int, ...], list[CompareObject]] = {}
    for layer in layers:
        keep, _ = _reasons(
            scope_words, pos, [(obj.name, obj.available), (f"{ref_name} {layer.layer}", layer.available)]
        )
        batches.setdefault(tuple(keep), []).append(layer)
    out = []
    for keep, batch in batches.items():
        checks = [(obj.name, obj.available), (f"{ref_name} {batch[0].layer}", batch[0].available)]
        _, left = _reasons(scope_words, pos, checks)
        common = {"object": obj.name, "kind": obj.kind, "reference": ref_name, "scope": scope}
        p_keep, p_left = (
            _reasons(scope_words, pos, checks + [(PMI_CONTROL, control.available)]) if with_control else (keep, left)
        )
        if with_control and tuple(p_keep) == keep:  # one pass gives every measure
            res, status = _align_on(
                obj, batch, np.array(keep, dtype=np.int64), control, scope_words, left, n_perm, seed
            )
            partial, p_status = (res.partial if res is not None else None), status
        else:
            res, status = _align_on(obj, batch, np.array(keep, dtype=np.int64), None, scope_words, left, n_perm, seed)
            partial, p_status = None, "the object is the PMI control itself" if is_control else "no PMI control"
            if with_control:
                idx = np.array(p_keep, dtype=np.int64)
                pres, p_status = _align_on(obj, batch, idx, control, scope_words, p_left, n_perm, seed)
                partial = pres.partial if pres is not None else None
        for k, layer in enumerate(batch):
            row = {**common, "n_words": len(keep)}
            if res is None:
                for metric in ("rsa", "cka", "procrustes"):
                    out.append(_row(row, layer, metric, float("nan"), None, 0, status))
            else:
                out.append(_row(row, layer, "rsa", res.rsa[k].value, res.rsa[k], n_perm, status))
                out.append(_row(row, layer, "cka", res.cka[k].value, res.cka[k], n_perm, status))
                out.append(_row(row, layer, "procrustes", res.procrustes[k], None, 0, status))
            prow = {**common, "n_words": len(p_keep)}
            if partial is None:
                out.append(_row(prow, layer, "partial_rsa", float("nan"), None, 0, p_status))
            else:
                out.append(_row(prow, layer, "partial_rsa", partial[k].value, partial[k], n_perm, p_status))
    return out


def _align_on(
    obj: CompareObject,
    batch: Sequence[CompareObject],
    idx: np.ndarray,
    control: CompareObject | None,
    scope_words: Sequence[str],
    left: Sequence[str],
    n_perm: int,
    seed: int,
):
    """(alignment of ``obj`` with the layers of ``batch`` on the rows ``idx``, or None; the status)."""
    status = "ok" if not left else f"{len(left)} of {len(scope_words)} words left out: {'; '.join(left)}"
    if len(idx) < MIN_WORDS:
        return None, f"fewer than {MIN_WORDS} words with every vector ({status})"
    X = np.asarray(obj.E, dtype=np.float64)[idx]
    DX = obj.dissimilarity[np.ix_(idx, idx)] if obj.dissimilarity is not None else dissimilarity(X)
    DZ = dissimilarity(np.asarray(control.E, dtype=np.float64)[idx]) if control is not None else None
    layers = [np.asarray(layer.E, dtype=np.float64)[idx] for layer in batch]
    return align(X, DX, layers, DZ, n_perm, seed), status


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
