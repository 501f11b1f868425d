"""The co-occurrence ablation: training windows without two distinct words of a group, and its random control.

Karkada et al. (arXiv 2602.15029) argue that the month circle comes from the translation symmetry of the month
statistics (co-occurrence with everything else depends only on the interval between months), not from months
occurring together, and that it survives removing every context that holds two months. On BOWS windows:

* the **ablated** set keeps the training windows that hold at most one distinct word of each group of
  ``windows.exclude_cooccurrence`` (a window holding "March" twice is kept, one holding "March" and "May" is not);
* the **control** set drops as many training windows, drawn uniformly at random from the same training windows
  (``numpy.random.default_rng(windows.seed)``), so that a change of the ring on the ablated set can be told apart
  from the effect of training on fewer windows.

Both are ordinary window sets: a window index beside the full set's (``V{V}_G{G}_S{S}{suffix}/train_windows.npy``,
the documents are not copied), trained and analysed by the same rules as the full set. Held-out windows are the
full set's in all three, so validation losses compare. "Distinct words" are distinct vocabulary ids; group words
missing from the vocabulary cannot occur and are ignored.

Finding the windows is one pass over the records: record r gets lo_r and hi_r, the smallest and largest position
in the group of the group words it holds (lo_r = n, hi_r = −1 when none). A window w (records wS … wS + G − 1)
holds two distinct group words exactly when min lo < max hi over its records, since a single distinct word k
gives min lo = max hi = k. The minima and maxima over the G records are G vectorised steps over all windows.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError, CorpusError
from .grid import ModelSpec, model_ref

__all__ = [
    "WINDOW_SETS",
    "window_set_suffixes",
    "ablation_models",
    "cyclic_groups",
    "record_group_span",
    "cooccurrence_windows",
    "random_drop",
    "ablated_windows",
    "ablate_windows",
]

log = logging.getLogger("bows.ablation")

#: the window sets of an ablation run, in table order: every training window, the ablation, its control
WINDOW_SETS = ("full", "ablated", "control")
_PREFIX = {"ablated": "_nocooc-", "control": "_ctrl-"}


def _slug(name: str) -> str:
    """A group name as it appears in paths: runs of characters other than letters and digits become ``_``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def window_set_suffixes(groups: Sequence[str]) -> dict[str, str]:
    """Folder suffix of each window set for ``windows.exclude_cooccurrence`` = ``groups``: the full set has none
    (its paths never change); with ``groups`` = [Months] the ablated set is ``_nocooc-Months`` and the control
    ``_ctrl-Months``. No groups: only the full set."""
    if not groups:
        return {"full": ""}
    slug = "+".join(_slug(g) for g in groups)
    if not all(_slug(g) for g in groups):
        raise ConfigError(
            f"windows.exclude_cooccurrence {list(groups)} holds a group name without letters or digits",
            "name the groups of analysis.word_groups with letters or digits",
        )
    return {"full": "", **{kind: prefix + slug for kind, prefix in _PREFIX.items()}}


def ablation_models(config: Mapping[str, Any]) -> list[ModelSpec]:
    """The models of ``analysis.models.ablation`` of a validated config, in order, without repeats: ``months`` and
    ``mechanism`` name those entries of ``analysis.models``, ``pca`` the pca baseline at the months model's latent
    size, a mapping is a model reference."""
    models = config["analysis"]["models"]
    out: list[ModelSpec] = []
    for entry in models["ablation"]:
        if entry == "pca":
            spec = ModelSpec("pca", model_ref(models["months"]).latent, 0.0, 1)
        elif isinstance(entry, str):
            spec = model_ref(models[entry])
        else:
            spec = model_ref(entry)
        if spec not in out:
            out.append(spec)
    return out


def cyclic_groups(names: Sequence[str], word_groups: Mapping[str, Any]) -> list[str]:
    """The groups of ``names`` that ``analysis.word_groups`` (validated) marks cyclic: those with a ring."""
    return [g for g in names if word_groups[g]["cyclic"]]


def record_group_span(indptr: np.ndarray, indices: np.ndarray, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) per record: smallest and largest group position among the record's ids (``position[id]`` is the
    id's position in the group, −1 outside it); lo = n_group and hi = −1 for a record without group words."""
    indptr = np.asarray(indptr, dtype=np.int64)
    n_records = len(indptr) - 1
    n_group = int(position.max()) + 1 if position.size else 0
    lo = np.full(n_records, n_group, dtype=np.int64)
    hi = np.full(n_records, -1, dtype=np.int64)
    pos = position[np.asarray(indices, dtype=np.int64)]
    hit = np.flatnonzero(pos >= 0)
    if hit.size:
        record = np.searchsorted(indptr, hit, side="right") - 1
        np.minimum.at(lo, record, pos[hit])
        np.maximum.at(hi, record, pos[hit])
    return lo, hi


def cooccurrence_windows(
    indptr: np.ndarray,
    indices: np.ndarray,
    vocab_size: int,
    group_size: int,
    stride: int,
    groups: Sequence[np.ndarray],
) -> np.ndarray:
    """Boolean [n_windows] over every window of the split: True where the window holds two or more distinct ids
    of one of ``groups`` (arrays of vocabulary ids; −1 entries, words missing from the vocabulary, are ignored)."""
    from .windows import n_windows

    n = n_windows(len(indptr) - 1, group_size, stride)
    starts = np.arange(n, dtype=np.int64) * stride
    hit = np.zeros(n, dtype=bool)
    for ids in groups:
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        ids = ids[ids >= 0]
        if ids.size < 2:
            continue
        position = np.full(vocab_size, -1, dtype=np.int64)
        position[ids] = np.arange(ids.size)
        lo, hi = record_group_span(indptr, indices, position)
        lo_w, hi_w = lo[starts].copy(), hi[starts].copy()
        for k in range(1, group_size):
            np.minimum(lo_w, lo[starts + k], out=lo_w)
            np.maximum(hi_w, hi[starts + k], out=hi_w)
        hit |= lo_w < hi_w
    return hit


def random_drop(train_idx: np.ndarray, n_drop: int, seed: int) -> np.ndarray:
    """``train_idx`` without ``n_drop`` of its windows, drawn uniformly without replacement with
    ``numpy.random.default_rng(seed)``; sorted int64."""
    train_idx = np.asarray(train_idx, dtype=np.int64)
    if not 0 <= n_drop <= train_idx.size:
        raise ValueError(f"cannot drop {n_drop} of {train_idx.size} windows")
    drop = np.random.default_rng(seed).choice(train_idx.size, size=n_drop, replace=False)
    keep = np.ones(train_idx.size, dtype=bool)
    keep[drop] = False
    return np.sort(train_idx[keep])


def ablated_windows(train_idx: np.ndarray, cooccurring: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(ablated, control) training windows: ``train_idx`` without the windows that ``cooccurring`` (boolean over
    all windows of the split) marks, and ``train_idx`` without as many windows drawn at random."""
    train_idx = np.asarray(train_idx, dtype=np.int64)
    drop = cooccurring[train_idx]
    ablated = train_idx[~drop]
    return ablated, random_drop(train_idx, int(drop.sum()), seed)


def _group_ids(vocab: str | os.PathLike, names: Sequence[str], word_groups: Mapping[str, Any]) -> dict[str, Any]:
    """name → resolved group (:class:`bows.metrics.words.Group`) of each ablated group."""
    from .metrics.words import WordIndex, resolve_groups
    from .vocab import read_vocab

    unknown = [g for g in names if g not in word_groups]
    if unknown:
        raise ConfigError(
            f"windows.exclude_cooccurrence names {unknown}, which analysis.word_groups does not define",
            f"use groups of analysis.word_groups ({', '.join(word_groups)}) or define them there",
        )
    index = WordIndex.from_vocab(read_vocab(vocab))
    return resolve_groups({g: word_groups[g] for g in names}, index)


def ablate_windows(
    train_docs: str | os.PathLike,
    vocab: str | os.PathLike,
    train_windows: str | os.PathLike,
    heldout_windows: str | os.PathLike,
    out_dirs: Mapping[str, str | os.PathLike],
    windows: Mapping[str, Any],
    word_groups: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    """Rule ``ablate_windows``: write the ablated and the control window sets (``out_dirs["ablated"]``,
    ``out_dirs["control"]``), each ``train_windows.npy``, ``heldout_windows.npy`` and ``windows.json``.

    ``windows`` is the windows config section (``exclude_cooccurrence``, ``group_size``, ``stride``, ``seed``);
    ``word_groups`` is ``analysis.word_groups``. Returns the two sets' statistics (their ``windows.json``).
    """
    from .encode import load_docs
    from .io import provenance, save_npy, write_json, write_sidecar

    names = list(windows["exclude_cooccurrence"])
    if not names:
        raise ConfigError("windows.exclude_cooccurrence is empty: there is nothing to ablate", "list a word group")
    G, S, seed = int(windows["group_size"]), int(windows["stride"]), int(windows["seed"])
    groups = _group_ids(vocab, names, word_groups)
    docs = load_docs(train_docs)
    train_idx = np.load(train_windows).astype(np.int64)
    heldout_idx = np.load(heldout_windows).astype(np.int64)
    if train_idx.size == 0:
        raise CorpusError(f"{train_windows} holds no training windows", "use a larger corpus or smaller group_size")
    by_group = {
        name: cooccurrence_windows(docs.indptr, docs.indices, docs.vocab_size, G, S, [g.indices])
        for name, g in groups.items()
    }
    cooccurring = np.logical_or.reduce(list(by_group.values()))
    ablated, control = ablated_windows(train_idx, cooccurring, seed)
    n_removed = int(train_idx.size - ablated.size)
    common = {
        "groups": names,
        "group_words": {name: [w for w, i in zip(g.words, g.indices) if i >= 0] for name, g in groups.items()},
        "group_size": G,
        "stride": S,
        "vocab_size": int(docs.vocab_size),
        "full_train_windows": int(train_idx.size),
        "removed_windows": n_removed,
        "removed_fraction": n_removed / train_idx.size,
        "removed_by_group": {name: int(hit[train_idx].sum()) for name, hit in by_group.items()},
        "heldout_windows": int(heldout_idx.size),
    }
    stats = {
        "ablated": {**common, "window_set": "ablated", "train_windows": int(ablated.size), "cooccurrence_kept": 0},
        "control": {
            **common,
            "window_set": "control",
            "train_windows": int(control.size),
            "seed": seed,
            "cooccurrence_kept": int(cooccurring[control].sum()),
        },
    }
    cfg = {"windows": dict(windows), "analysis": {"word_groups": {g: word_groups[g] for g in names}}}
    inputs = {"docs": str(train_docs) + ".json", "vocab": str(vocab), "train_windows": str(train_windows)}
    for kind, idx in (("ablated", ablated), ("control", control)):
        out = Path(out_dirs[kind])
        save_npy(out / "train_windows.npy", idx)
        save_npy(out / "heldout_windows.npy", heldout_idx)
        for name in ("train_windows.npy", "heldout_windows.npy"):
            write_sidecar(out / name, cfg, inputs, hash_inputs=False)
        write_json(out / "windows.json", {**stats[kind], "provenance": provenance(cfg, inputs, hash_inputs=False)})
    log.info(
        "co-occurrence ablation of %s: %d of %d training windows removed (%.1f %%); control drops as many at random",
        "+".join(names),
        n_removed,
        train_idx.size,
        100 * n_removed / train_idx.size,
    )
    return stats
