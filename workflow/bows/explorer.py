"""The interactive explorer of one model: a self-contained HTML page to hover instead of read (docs/dynamics.md).

Three views of the model's word vectors (the rows of E = Wᵀ):

- **UMAP of every word** (:func:`bows.metrics.clusters.umap_layout`, the paper's settings); hover shows the word, its
  frequency rank in the vocabulary (1 = most frequent), its group (a configured word group, else its semantic
  category, else "Other") and its nearest neighbours by cosine; a box finds a word;
- **the rings** of the cyclic groups (months, days) on the first two principal components of their unit vectors
  (the plane of the ring tests, :func:`bows.metrics.geometry.unit_ring_angles`), joined in calendar order; hover
  shows the word and its cosine to each neighbour in the cycle;
- **the Gram matrix** of a group chosen from a menu, as a labelled cosine heatmap (hover: the pair, cosine, dot).

The page is written with Bokeh (pinned) and its JavaScript inlined: no CDN, no network, it opens from ``file://``.
Its size is about 1.7 MB of library plus ~150 bytes per word (:func:`estimated_size`): about 2.4 MB at V = 5,000 and
3.2 MB at V = 10,000 (measured sizes in docs/dynamics.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .grid import ModelSpec
from .metrics import geometry as geo
from .metrics.words import Group, WordIndex, semantic_assignment

__all__ = [
    "explorer_models",
    "ExplorerData",
    "nearest_neighbours",
    "frequency_ranks",
    "word_labels",
    "explorer_data",
    "explorer_html",
    "estimated_size",
    "OTHER",
]

OTHER = "Other"
#: Bytes of the inlined library (Bokeh's core and widgets) and per word of data, for :func:`estimated_size`.
LIBRARY_BYTES = 1_750_000
BYTES_PER_WORD = 160


def explorer_models(config: Mapping[str, Any]) -> list[ModelSpec]:
    """The models that get an explorer (``explorer.models``, or every model of ``analysis.models`` when null), in
    order and without repeats; each must be in ``train.grid`` (a :class:`~bows.errors.ConfigError` otherwise)."""
    from .errors import ConfigError
    from .grid import model_grid, model_ref

    if not config["explorer"]["enabled"]:
        return []
    refs = config["explorer"]["models"]
    if refs is None:
        named = config["analysis"]["models"]
        refs = [named["months"], named["mechanism"], *named["umap"]]
    specs = list(dict.fromkeys(model_ref(r) for r in refs))
    grid = set(model_grid(config))
    missing = [s.tag for s in specs if s not in grid]
    if missing:
        raise ConfigError(
            f"explorer models {missing} are not in train.grid",
            "add them to train.grid or list other models in explorer.models",
        )
    return specs


def nearest_neighbours(E: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(indices [n, k], cosines [n, k]) of each row's k nearest other rows by cosine, nearest first (a zero row has
    cosine 0 to every row). Blocked: memory O(block · n)."""
    E = np.asarray(E, dtype=np.float32)
    n = len(E)
    k = int(min(k, n - 1))
    norms = np.linalg.norm(E, axis=1)
    U = E / np.where(norms > 1e-12, norms, 1.0)[:, None]
    idx = np.zeros((n, k), dtype=np.int64)
    cos = np.zeros((n, k), dtype=np.float32)
    if k <= 0:
        return idx, cos
    for start in range(0, n, block):
        S = U[start : start + block] @ U.T
        rows = np.arange(S.shape[0])
        S[rows, start + rows] = -np.inf  # not its own neighbour
        top = np.argpartition(-S, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(S, top, axis=1)
        order = np.lexsort((top, -vals), axis=1)  # by cosine, then by index (deterministic ties)
        idx[start : start + block] = np.take_along_axis(top, order, axis=1)
        cos[start : start + block] = np.take_along_axis(vals, order, axis=1)
    return idx, cos


def frequency_ranks(counts: Sequence[int]) -> np.ndarray:
    """Rank of each word by its count, 1 = most frequent (ties in vocabulary order)."""
    counts = np.asarray(counts, dtype=np.int64)
    order = np.lexsort((np.arange(len(counts)), -counts))
    ranks = np.empty(len(counts), dtype=np.int64)
    ranks[order] = np.arange(1, len(counts) + 1)
    return ranks


def word_labels(index: WordIndex, groups: Mapping[str, Group]) -> np.ndarray:
    """Each word's group: the first configured word group that holds it, else its semantic category (paper §6.5),
    else "Other"."""
    labels = np.full(len(index), OTHER, dtype=object)
    cats = semantic_assignment(index, n_other=0)
    labels[cats["index"].to_numpy()] = cats["category"].to_numpy()
    for name, g in reversed(list(groups.items())):
        labels[g.indices[g.found]] = name
    return labels


@dataclass
class ExplorerData:
    """Everything the page draws, as plain arrays and frames."""

    title: str
    words: pd.DataFrame  # word, rank, group, x, y, neighbours (text)
    rings: dict[str, pd.DataFrame]  # group → word, pos, x, y, cos_prev, cos_next, prev, next
    grams: dict[str, pd.DataFrame]  # group → word_i, word_j, cos, dot
    facts: dict[str, Any]


def _neighbour_text(words: Sequence[str], idx: np.ndarray, cos: np.ndarray) -> list[str]:
    return [", ".join(f"{words[j]} {c:.2f}" for j, c in zip(row_i, row_c)) for row_i, row_c in zip(idx, cos)]


def _ring(E: np.ndarray, words: list[str]) -> pd.DataFrame:
    """A cyclic group's unit-vector PCA plane, with each word's cosine to its neighbours in the cycle."""
    norms = np.linalg.norm(E, axis=1)
    P = geo.pca(E / np.where(norms > 1e-12, norms, 1.0)[:, None], 2).scores
    C = geo.cosine(E, dead=0.0)
    n = len(words)
    prev, nxt = (np.arange(n) - 1) % n, (np.arange(n) + 1) % n
    return pd.DataFrame(
        {
            "word": words,
            "pos": np.arange(n),
            "x": P[:, 0],
            "y": P[:, 1],
            "prev": [words[i] for i in prev],
            "next": [words[i] for i in nxt],
            "cos_prev": C[np.arange(n), prev],
            "cos_next": C[np.arange(n), nxt],
        }
    )


def _gram(E: np.ndarray, words: list[str]) -> pd.DataFrame:
    G, C = geo.gram(E), geo.cosine(E, dead=0.0)
    n = len(words)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    w = np.array(words, dtype=object)
    return pd.DataFrame({"word_i": w[i], "word_j": w[j], "cos": C.ravel(), "dot": G.ravel()})


def explorer_data(
    W: np.ndarray,
    vocab: pd.DataFrame,
    groups: Mapping[str, Group],
    cyclic: Sequence[str],
    neighbours: int,
    seed: int,
    title: str,
    layout: np.ndarray | None = None,
) -> ExplorerData:
    """The explorer's data of a model W [L, V] (``layout``: a precomputed 2-D layout of the words, else UMAP)."""
    from .metrics.clusters import umap_layout

    index = WordIndex.from_vocab(vocab)
    words = index.words
    E = np.asarray(W, dtype=np.float64).T
    XY = umap_layout(E, seed=seed) if layout is None else np.asarray(layout)
    nn_idx, nn_cos = nearest_neighbours(E, neighbours)
    table = pd.DataFrame(
        {
            "word": words,
            "rank": frequency_ranks(vocab.sort_values("index")["count"].to_numpy()),
            "group": word_labels(index, groups),
            "x": XY[:, 0].astype(np.float32),
            "y": XY[:, 1].astype(np.float32),
            "neighbours": _neighbour_text(words, nn_idx, nn_cos),
        }
    )
    rings, grams = {}, {}
    for name, g in groups.items():
        ok = g.found
        found = [w for w, f in zip(g.words, ok) if f]
        if len(found) < 2:
            continue
        Eg = E[g.indices[ok]]
        grams[name] = _gram(Eg, found)
        if name in cyclic and len(found) >= 3:
            rings[name] = _ring(Eg, found)
    L, V = W.shape
    facts = {"latent": int(L), "vocab_size": int(V), "neighbours": int(nn_idx.shape[1])}
    return ExplorerData(title, table, rings, grams, facts)


def estimated_size(vocab_size: int) -> int:
    """Bytes of an explorer page at ``vocab_size`` words (library + data; within ~15 % of measured pages)."""
    return LIBRARY_BYTES + BYTES_PER_WORD * int(vocab_size)


# --------------------------------------------------------------------------------------------------- the page


def _palette(labels: Sequence[str]) -> dict[str, str]:
    from bokeh.palettes import Category20

    named = [g for g in dict.fromkeys(labels) if g != OTHER]
    colours = Category20[20]
    out = {g: colours[k % 20] for k, g in enumerate(sorted(named))}
    out[OTHER] = "#b8b8b8"
    return out


def _umap_plot(data: ExplorerData) -> tuple[Any, Any]:
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    t = data.words
    colours = _palette(t["group"])
    src = ColumnDataSource(
        {
            "x": t["x"].to_numpy(),
            "y": t["y"].to_numpy(),
            "word": t["word"].tolist(),
            "rank": t["rank"].to_numpy(),
            "group": t["group"].tolist(),
            "neighbours": t["neighbours"].tolist(),
            "colour": [colours[g] for g in t["group"]],
            "size": np.where(t["group"] == OTHER, 4, 7).astype(np.int8),
            "alpha": np.where(t["group"] == OTHER, 0.45, 0.9).astype(np.float32),
        },
        name="umap_source",
    )
    p = figure(
        name="umap",
        title=f"UMAP of all {len(t):,} words (cosine; hover a point)",
        width=760,
        height=600,
        tools="pan,wheel_zoom,box_zoom,reset,tap",
        active_scroll="wheel_zoom",
    )
    points = p.scatter(
        "x", "y", source=src, size="size", color="colour", alpha="alpha", line_color=None, name="umap_points"
    )
    p.add_tools(
        HoverTool(
            renderers=[points],
            tooltips=[
                ("word", "@word"),
                ("frequency rank", "@rank"),
                ("group", "@group"),
                (f"nearest {data.facts['neighbours']} (cosine)", "@neighbours"),
            ],
        )
    )
    p.xaxis.visible = p.yaxis.visible = False
    p.grid.visible = False
    return p, src


def _ring_plot(name: str, ring: pd.DataFrame) -> Any:
    from bokeh.models import ColumnDataSource, HoverTool, LabelSet
    from bokeh.plotting import figure

    src = ColumnDataSource(ring.to_dict(orient="list"), name=f"ring_source_{name}")
    closed = pd.concat([ring, ring.iloc[:1]])
    p = figure(
        name=f"ring_{name}",
        title=f"{name}: first two PCs of the unit vectors",
        width=380,
        height=380,
        tools="pan,wheel_zoom,reset",
        match_aspect=True,
    )
    p.line(closed["x"].to_numpy(), closed["y"].to_numpy(), color="#9a9a9a", line_width=1)
    points = p.scatter("x", "y", source=src, size=11, color="#1f77b4", name=f"ring_points_{name}")
    p.add_layout(LabelSet(x="x", y="y", text="word", source=src, x_offset=6, y_offset=4, text_font_size="9pt"))
    p.add_tools(
        HoverTool(
            renderers=[points],
            tooltips=[
                ("word", "@word"),
                ("cosine to previous", "@prev @cos_prev{0.000}"),
                ("cosine to next", "@next @cos_next{0.000}"),
            ],
        )
    )
    return p


def _gram_plot(grams: Mapping[str, pd.DataFrame], first: str) -> tuple[Any, Any]:
    from bokeh.models import ColorBar, ColumnDataSource, CustomJS, FactorRange, HoverTool, LinearColorMapper, Select
    from bokeh.palettes import RdBu11
    from bokeh.plotting import figure

    def columns(g: pd.DataFrame) -> dict[str, list]:
        return {k: g[k].tolist() for k in ("word_i", "word_j", "cos", "dot")}

    def factors(g: pd.DataFrame) -> list[str]:
        return list(dict.fromkeys(g["word_i"]))

    src = ColumnDataSource(columns(grams[first]), name="gram_source")
    x_range = FactorRange(factors=factors(grams[first]))
    y_range = FactorRange(factors=list(reversed(factors(grams[first]))))
    mapper = LinearColorMapper(palette=list(reversed(RdBu11)), low=-1.0, high=1.0)
    p = figure(
        name="gram",
        title="Gram matrix (cosine) of the chosen group",
        x_range=x_range,
        y_range=y_range,
        width=560,
        height=520,
        tools="reset",
    )
    cells = p.rect(
        "word_j", "word_i", 1, 1, source=src, fill_color={"field": "cos", "transform": mapper}, line_color=None
    )
    p.add_tools(
        HoverTool(
            renderers=[cells],
            tooltips=[("pair", "@word_i · @word_j"), ("cosine", "@cos{0.000}"), ("dot", "@dot{0.000}")],
        )
    )
    p.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
    p.xaxis.major_label_orientation = 1.0
    p.grid.visible = False
    all_data = {name: {"data": columns(g), "factors": factors(g)} for name, g in grams.items()}
    select = Select(title="group", value=first, options=list(grams), name="gram_select")
    select.js_on_change(
        "value",
        CustomJS(
            args={"src": src, "x": x_range, "y": y_range, "all": all_data},
            code="const g = all[cb_obj.value]; src.data = g.data; x.factors = g.factors;"
            " y.factors = [...g.factors].reverse();",
        ),
    )
    return p, select


def _finder(src: Any) -> Any:
    from bokeh.models import CustomJS, TextInput

    box = TextInput(title="find a word", placeholder="e.g. January", name="find_word", width=220)
    box.js_on_change(
        "value",
        CustomJS(
            args={"src": src},
            code="const w = cb_obj.value.trim(); const i = src.data.word.indexOf(w);"
            " src.selected.indices = i >= 0 ? [i] : [];",
        ),
    )
    return box


def explorer_html(data: ExplorerData) -> str:
    """The page: every view with its data and the Bokeh library inlined (no external resource)."""
    from bokeh.embed import file_html
    from bokeh.layouts import column, row
    from bokeh.models import Div
    from bokeh.resources import INLINE

    umap, src = _umap_plot(data)
    f = data.facts
    intro = Div(
        text=(
            f"<h2>{_escape(data.title)}</h2><p>L = {f['latent']}, V = {f['vocab_size']:,}. Hover a point to see its "
            "word, frequency rank (1 = most frequent), group and nearest neighbours by cosine; scroll to zoom. "
            "Built by bows (docs/dynamics.md); works offline.</p>"
        ),
        width=1100,
    )
    rings = [_ring_plot(name, r) for name, r in data.rings.items()]
    parts = [intro, row(column(_finder(src), umap))]
    if rings:
        parts.append(row(*rings))
    if data.grams:
        first = next(g for g in ("Months", *data.grams) if g in data.grams)
        gram, select = _gram_plot(data.grams, first)
        parts.append(column(select, gram))
    return file_html(column(*parts), resources=INLINE, title=data.title)


def _escape(text: str) -> str:
    return json.dumps(str(text))[1:-1].replace("<", "&lt;").replace(">", "&gt;")


def write_explorer(path: str | os.PathLike, data: ExplorerData) -> int:
    """Write the page atomically; returns its size in bytes."""
    from .io import write_text

    html = explorer_html(data)
    write_text(path, html)
    return len(html.encode("utf-8"))
