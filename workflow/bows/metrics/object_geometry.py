"""One geometry for every object: the measures applied to a BOWS model's word columns, applied unchanged to any
set of word vectors (a reference's layer, the data's PMI or co-occurrence rows, a PCA model, an untrained init).

An *object* is a matrix E [n, d] whose rows are words, named by their BOWS vocabulary form. Its word groups are the
configured groups (``analysis.word_groups``, plus the "no I" variant of the Roman numerals) looked up among its
rows; a word without a vector (absent from a reference, too few contexts, never in a window) is reported missing in
the status of every row of its group, never dropped silently. The measures are those of
:func:`bows.metrics.model_metrics.group_tables` (ring adjacency and winding on the first two PCs, order agreement,
circulant fit, each with its permutation null; the Gram and cosine norms; Mantel against the data's phi when the
co-occurrence table is given) and :func:`bows.metrics.clusters.cluster_scores` with the groups as labels (scope
``Groups``: neighbour purity and cosine silhouette with their nulls).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .clusters import cluster_scores
from .geometry import has_vector
from .model_metrics import expand_groups, group_tables
from .tables import Rows
from .words import Group

__all__ = ["GEOMETRY_COLUMNS", "COORD_COLUMNS", "object_groups", "object_geometry", "GROUPS_SCOPE"]

GROUPS_SCOPE = "Groups"
OBJECT_COLUMNS = ["object", "kind", "layer", "layer_index"]
GEOMETRY_COLUMNS = OBJECT_COLUMNS + ["scope", "item", "metric", "value", "status"]
COORD_COLUMNS = OBJECT_COLUMNS + ["group", "word", "pos", "norm", "pc1", "pc2", "npc1", "npc2", "angle", "evr1", "evr2"]


def object_groups(groups: Mapping[str, Group], words: Sequence[str], available: np.ndarray) -> dict[str, Group]:
    """The configured groups looked up among an object's rows: a group word's index is its row when the object has a
    vector for it (``available``), else −1. ``groups`` are resolved on the BOWS vocabulary (their matched forms name
    the rows)."""
    row = {w: k for k, w in enumerate(words) if available[k]}
    out = {}
    for name, g in groups.items():
        forms = [m if i >= 0 else w for w, i, m in zip(g.words, g.indices, g.matched)]
        idx = np.array([row.get(f, -1) for f in forms], dtype=np.int64)
        out[name] = Group(name, list(g.words), idx, g.cyclic, False, [f if k >= 0 else "" for f, k in zip(forms, idx)])
    return out


def _label(frame: pd.DataFrame, name: str, kind: str, layer: str, layer_index: int) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, "object", name)
    frame.insert(1, "kind", kind)
    frame.insert(2, "layer", layer)
    frame.insert(3, "layer_index", int(layer_index))
    return frame


def object_geometry(
    E: np.ndarray,
    words: Sequence[str],
    groups: Mapping[str, Group],
    name: str,
    kind: str,
    layer: str = "",
    layer_index: int = 0,
    cooc: pd.DataFrame | None = None,
    n_perm: int = 1000,
    seed: int = 0,
    knn_k: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tidy metric rows, per-word coordinates) of one object; ``E`` [n, d] rows named by ``words`` (NaN rows:
    no vector)."""
    E = np.asarray(E, dtype=np.float64)
    available = has_vector(E)
    mine = object_groups(groups, words, available)
    rows = Rows(None)
    coords, _ = group_tables(np.nan_to_num(E).T, expand_groups(mine), rows, cooc, n_perm, seed)
    _cluster_rows(rows, E, mine, n_perm, seed, knn_k)
    metrics = rows.frame()[["scope", "item", "metric", "value", "status"]]
    coords = coords.reindex(columns=[c for c in COORD_COLUMNS if c not in OBJECT_COLUMNS])
    return _label(metrics, name, kind, layer, layer_index), _label(coords, name, kind, layer, layer_index)


def _cluster_rows(rows: Rows, E: np.ndarray, groups: Mapping[str, Group], n_perm: int, seed: int, knn_k: int) -> None:
    """Neighbour purity and cosine silhouette of the group words, labelled by group (first group of a word)."""
    seen: dict[int, str] = {}
    for name, g in groups.items():
        for i in g.indices:
            if i >= 0 and int(i) not in seen:
                seen[int(i)] = name
    missing = [f"{w} ({name})" for name, g in groups.items() for w in g.missing]
    status = "ok" if not missing else f"{len(missing)} group words missing: {', '.join(missing)}"
    if len(seen) < 3 or len(set(seen.values())) < 2:
        rows.add(GROUPS_SCOPE, "knn_purity", np.nan, status="fewer than 3 group words in 2 groups")
        return
    idx = np.array(list(seen), dtype=np.int64)
    scores = cluster_scores(E[idx], np.array(list(seen.values())), k=knn_k, n_perm=n_perm, seed=seed)
    rows.add_many(
        GROUPS_SCOPE, {k: v for k, v in scores.items() if k not in ("n_words", "n_categories")}, status=status
    )
    rows.add(GROUPS_SCOPE, "n_words", scores["n_words"], status=status)
