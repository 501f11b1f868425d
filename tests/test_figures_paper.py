"""The paper's figures (months, structure sweep, UMAP, mechanism) on small tables with planted content."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib  # noqa: E402
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from bows.figures import drawing  # noqa: E402
from bows.figures import mechanism as fm  # noqa: E402
from bows.figures import months as fmo  # noqa: E402
from bows.figures import structure as fs  # noqa: E402
from bows.figures import umap as fu  # noqa: E402
from bows.figures.drawing import NotAvailable  # noqa: E402
from bows.figures.stages import mechanism as mechanism_stage  # noqa: E402
from bows.figures.stages import months as months_stage  # noqa: E402
from bows.figures.stages import structure_snapshot as snapshot_stage  # noqa: E402
from bows.figures.stages import umap as umap_stage  # noqa: E402
from bows.figures.theme import MONTH_ABBR  # noqa: E402
from bows.grid import ModelSpec  # noqa: E402
from bows.stage import Section, Stage  # noqa: E402
from matplotlib.collections import PolyCollection, QuadMesh  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(fig: Figure) -> list[str]:
    """Every text string drawn in the figure (axes texts, annotations, titles, tick labels, legends)."""
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return [t for t in out if t]


# ----------------------------------------------------------------------------------------------- planted tables


def ring_cooc(n: int = 12, missing: tuple[str, ...] = ()) -> pd.DataFrame:
    """Circulant correlations r_ij = 0.5·cos(2π(i−j)/n) (1 on the diagonal) for the Months group."""
    rows = []
    for i in range(n):
        for j in range(n):
            v = 1.0 if i == j else 0.5 * np.cos(2 * np.pi * (i - j) / n)
            bad = MONTHS[i] in missing or MONTHS[j] in missing
            rows.append(
                {
                    "group": "Months",
                    "word_i": MONTHS[i],
                    "word_j": MONTHS[j],
                    "pos_i": i,
                    "pos_j": j,
                    "n_windows": 1000,
                    "corr_cond": np.nan if bad else v,
                    "status": "missing: word not in vocabulary" if bad else "ok",
                }
            )
    return pd.DataFrame(rows)


def ring_table(source: str = "data", missing: tuple[str, ...] = ()) -> pd.DataFrame:
    a = 2 * np.pi * np.arange(12) / 12
    return pd.DataFrame(
        {
            "source": source,
            "word": MONTHS,
            "pos": np.arange(12),
            "pc1": np.where(np.isin(MONTHS, missing), np.nan, np.cos(a)),
            "pc2": np.where(np.isin(MONTHS, missing), np.nan, np.sin(a)),
            "status": ["missing: word not in vocabulary" if m in missing else "ok" for m in MONTHS],
        }
    )


def seasonal_table(found: tuple[str, ...] = ("Christmas", "summer")) -> pd.DataFrame:
    a = 2 * np.pi * np.arange(12) / 12
    rows = [
        {
            "word": m,
            "kind": "month",
            "season": "",
            "pos": k,
            "pc1": np.cos(a[k]),
            "pc2": np.sin(a[k]),
            "pc3": 0.0,
            "plane_share": np.nan,
            "status": "ok",
        }
        for k, m in enumerate(MONTHS)
    ]
    seasons = {"snow": "winter", "Christmas": "winter", "spring": "spring", "summer": "summer", "Halloween": "autumn"}
    for w, s in seasons.items():
        ok = w in found
        rows.append(
            {
                "word": w,
                "kind": "seasonal",
                "season": s,
                "pos": -1,
                "pc1": 0.5 if ok else np.nan,
                "pc2": 0.2 if ok else np.nan,
                "pc3": np.nan,
                "plane_share": 0.8 if ok else np.nan,
                "status": "ok" if ok else "missing: word not in vocabulary",
            }
        )
    return pd.DataFrame(rows)


LATENTS = [25, 50, 100, 200, 500]


def sweep_tables(seeds=(1, 2, 3)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Off-diagonal norms falling with L (Months faster than Roman numerals), small seed noise."""
    rng = np.random.default_rng(0)
    rows = []
    for g, rate in (("Months", 1.0), ("Roman numerals", 0.3)):
        for L in LATENTS:
            for s in seeds:
                v = np.exp(-rate * np.log(L / 25)) + 0.01 * rng.standard_normal()
                rows.append(
                    {
                        "group": g,
                        "variant": "relu",
                        "wd": 1.0,
                        "latent": L,
                        "seed": s,
                        "offdiag_raw": v,
                        "offdiag_cos": 2 * v,
                        "mean_abs_cos": v / 3,
                        "status": "ok",
                    }
                )
    sweep = pd.DataFrame(rows)
    summ = []
    for metric in ("offdiag_raw", "offdiag_cos", "mean_abs_cos"):
        for (g, L), d in sweep.groupby(["group", "latent"]):
            summ.append(
                {
                    "group": g,
                    "variant": "relu",
                    "wd": 1.0,
                    "latent": L,
                    "metric": metric,
                    "mean": d[metric].mean(),
                    "sd": d[metric].std(ddof=1),
                    "n_seeds": len(d),
                }
            )
    return sweep, pd.DataFrame(summ)


def groups_table(roman: bool = True) -> pd.DataFrame:
    rows = []
    a = 2 * np.pi * np.arange(12) / 12
    for k, m in enumerate(MONTHS):
        rows.append(
            {
                "group": "Months",
                "word": m,
                "pos": k,
                "pc1": np.cos(a[k]),
                "pc2": np.sin(a[k]),
                "evr1": 0.4,
                "evr2": 0.3,
                "status": "ok",
            }
        )
    for k, r in enumerate(ROMAN):
        ok = roman or k == 1
        rows.append(
            {
                "group": "Roman numerals",
                "word": r,
                "pos": k,
                "pc1": float(k) if ok else np.nan,
                "pc2": float(k % 3) if ok else np.nan,
                "evr1": 0.5,
                "evr2": 0.2,
                "status": "ok" if ok else "missing: word not in vocabulary",
            }
        )
    return pd.DataFrame(rows)


def umap_table(categorised: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    cats = fu.categories()[:3] if categorised else []
    rows = [{"index": i, "word": f"w{i}", "category": "Other", "x": rng.normal(), "y": rng.normal()} for i in range(40)]
    for k, c in enumerate(cats):
        rows += [
            {"index": 100 + 10 * k + i, "word": f"{c}{i}", "category": c, "x": 5 * k + rng.normal(), "y": rng.normal()}
            for i in range(10)
        ]
    return pd.DataFrame(rows)


def mech_tables(target: str = "Beatles", present: bool = True) -> dict[str, pd.DataFrame]:
    words = fm.r2_words(target)
    r2 = pd.DataFrame(
        {
            "idx": np.arange(len(words)),
            "word": words,
            "r2_ctx": np.linspace(0.9, 0.5, len(words)),
            "r2_onehot": [0.01] + [0.3] * (len(words) - 1),
        }
    )
    z = np.linspace(-1, 2, 64)
    dens = pd.DataFrame(
        {
            "target": target,
            "z": z,
            "density": np.exp(-((z - 1.0) ** 2)) + 0.3 * np.exp(-((z + 0.5) ** 2) / 0.1),
            "positive": z > 0,
        }
    )
    tw = []
    for tower, ctx, self_ in (
        ("correlated", ["Lennon", "McCartney"], True),
        ("uncorrelated", ["orange", "milk"], True),
        ("correlated_no_target", ["Lennon", "McCartney"], False),
    ):
        level, step = -0.5, 0
        tw.append(
            {"tower": tower, "step": 0, "word": target, "kind": "bias", "contribution": -0.5, "start": 0.0, "end": -0.5}
        )
        steps = ([(target, "self", 0.6)] if self_ else []) + [
            (w, "context", 0.3 if tower != "uncorrelated" else -0.05) for w in ctx
        ]
        for w, kind, c in steps:
            step += 1
            tw.append(
                {
                    "tower": tower,
                    "step": step,
                    "word": w,
                    "kind": kind,
                    "contribution": c,
                    "start": level,
                    "end": level + c,
                }
            )
            level += c
    if target == "Christmas":
        for k, m in enumerate(MONTHS):
            c = 0.2 if m == "December" else (-0.02 if k % 2 else 0.01)
            tw.append(
                {
                    "tower": "months",
                    "step": k + 1,
                    "word": m,
                    "kind": "context",
                    "contribution": c,
                    "start": 0.0,
                    "end": c,
                }
            )
    towers = pd.DataFrame(tw).assign(target=target, status="ok")
    base = {
        "model": "relu/L100_wd1.0_seed1",
        "variant": "relu",
        "latent": 100,
        "wd": 1.0,
        "seed": 1,
        "scope": target,
        "item": "",
    }
    if present:
        vals = {"n_windows": 200, "onehot_z": 0.1, "frac_pos": 0.81, "frac_better_than_onehot": 0.7}
        metrics = pd.DataFrame([{**base, "metric": k, "value": v, "status": "ok"} for k, v in vals.items()])
    else:
        metrics = pd.DataFrame(
            [{**base, "metric": "n_windows", "value": np.nan, "status": "missing: target not in vocabulary"}]
        )
        towers, dens = towers.iloc[0:0], dens.iloc[0:0]
    return {"r2": r2, "density": dens, "towers": towers, "metrics": metrics}


# ------------------------------------------------------------------------------------------------------ months


def test_corr_vmax_clips_the_95th_percentile():
    m = np.full((4, 4), 0.1)
    np.fill_diagonal(m, 1.0)
    assert fmo.corr_vmax(m) == pytest.approx(0.3)  # below the floor
    m[~np.eye(4, dtype=bool)] = 0.9
    assert fmo.corr_vmax(m) == pytest.approx(0.6)  # above the ceiling
    m[~np.eye(4, dtype=bool)] = -0.45
    assert fmo.corr_vmax(m) == pytest.approx(0.45)  # |off-diagonal|


def test_corr_matrix_heatmap_with_month_labels():
    fig = fmo.corr_matrix(ring_cooc())
    ax = fig.axes[0]
    mesh = [c for c in ax.collections if isinstance(c, QuadMesh)][0]
    assert np.asarray(mesh.get_array()).size == 144
    assert mesh.norm.vmin == 0.0 and mesh.norm.vmax == pytest.approx(0.5)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(MONTH_ABBR)
    assert mesh.get_cmap().name == "coolwarm"


def test_corr_matrix_not_available_without_group():
    with pytest.raises(NotAvailable, match="Months"):
        fmo.corr_matrix(ring_cooc().assign(group="Days"))


def test_ring_closed_polygon_with_spokes_and_labels():
    fig = fmo.ring(ring_table("weights_norm"), source="weights_norm", title="ring")
    ax = fig.axes[0]
    poly = ax.lines[0]
    x, y = poly.get_data()
    assert len(x) == 13 and x[0] == x[-1] and y[0] == y[-1]  # closed in calendar order
    assert np.allclose(x[:12], np.cos(2 * np.pi * np.arange(12) / 12))
    spokes = [ln for ln in ax.lines[1:] if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == 0]
    assert len(spokes) == 12
    assert set(MONTH_ABBR) <= set(texts(fig))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["winter", "spring", "summer", "autumn"]


def test_ring_notes_missing_months_and_needs_three():
    fig = fmo.ring(ring_table(missing=("May",)), source="data")
    assert any("not drawn: May" in t for t in texts(fig))
    with pytest.raises(NotAvailable, match="at least 3"):
        fmo.ring(ring_table(missing=tuple(MONTHS[2:])), source="data")


def test_seasonal_words_drawn_and_missing_listed():
    fig = fmo.months_seasonal(seasonal_table(), evr=(0.3, 0.2))
    t = texts(fig)
    assert any(s.startswith("Christmas (80%)") for s in t)
    assert any("not in vocabulary: snow" in s for s in t)
    assert fig.axes[0].get_xlabel().startswith("PC1 (30%")


def test_seasonal_not_available_without_seasonal_words():
    with pytest.raises(NotAvailable, match="no seasonal word"):
        fmo.months_seasonal(seasonal_table(found=()))


# ------------------------------------------------------------------------------------------------ structure


def test_sweep_figure_lines_band_and_snapshot_markers():
    sweep, summ = sweep_tables()
    fig = fs.sweep_figure(sweep, summ, metric="offdiag_raw", snapshot_latents=[100, 4000])
    left, right = fig.axes[:2]
    assert left.get_xscale() == "log" and right.get_xscale() == "log"
    labels = [ln.get_label() for ln in left.lines]
    assert "Months" in labels and "Roman numerals" in labels
    months = [ln for ln in left.lines if ln.get_label() == "Months"][0]
    want = sweep[(sweep.group == "Months") & (sweep.seed == 1)].sort_values("latent")["offdiag_raw"]
    assert np.allclose(months.get_ydata(), want)
    vlines = [
        ln
        for ln in left.lines
        if ln.get_label() == "snapshot L" or (len(set(ln.get_xdata())) == 1 and ln.get_linestyle() == ":")
    ]
    assert [float(v.get_xdata()[0]) for v in vlines] == [100.0]  # 4000 is outside the trained range
    assert sum(isinstance(c, PolyCollection) for c in right.collections) == 2  # one ±2 sd band per group
    assert "3 seeds" in right.get_title()
    assert [t.get_text() for t in left.get_xticklabels()] == [str(L) for L in LATENTS]


def test_sweep_not_available_when_empty():
    sweep, summ = sweep_tables()
    with pytest.raises(NotAvailable):
        fs.sweep_figure(sweep.iloc[0:0], summ)


def test_snapshot_figure_panels_and_missing_group():
    fig = fs.snapshot_figure(groups_table(), 100)
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "Months"
    x, _ = fig.axes[0].lines[0].get_data()
    assert len(x) == 13 and x[0] == x[-1]
    fig = fs.snapshot_figure(groups_table(roman=False), 100)
    assert any("not available at this scale" in t and "Roman numerals" in t for t in texts(fig))
    with pytest.raises(NotAvailable, match="L = 300"):
        fs.snapshot_figure(None, 300)


# ------------------------------------------------------------------------------------------------------ UMAP


def test_umap_other_grey_and_categories_in_legend():
    fig = fu.umap_scatter(umap_table(), title="t")
    ax = fig.axes[0]
    other = ax.collections[0]
    assert matplotlib.colors.to_hex(other.get_facecolor()[0]) == fu.OTHER_COLOUR
    assert other.get_alpha() == pytest.approx(0.4)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("Other (40)")
    assert all(any(lab.startswith(c) for lab in labels) for c in fu.categories()[:3])


def test_umap_colours_distinct_from_other():
    cols = fu.category_colours()
    assert len(cols) == 13
    hexes = {matplotlib.colors.to_hex(c) for k, c in cols.items() if k != fu.OTHER}
    assert len(hexes) == 12 and fu.OTHER_COLOUR not in hexes


def test_umap_not_available_without_categories():
    with pytest.raises(NotAvailable, match="category"):
        fu.umap_scatter(umap_table(categorised=False))


def test_umap_legend_lists_every_category():
    fig = fu.umap_legend()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == fu.categories() + ["Other"]


# ------------------------------------------------------------------------------------------------- mechanism


def test_mechanism_three_panels():
    t = mech_tables("Beatles")
    fig = fm.mechanism_figure("Beatles", t["r2"], t["density"], t["towers"], t["metrics"])
    a, b, c = fig.axes[:3]
    assert a.get_title(loc="left").startswith("A") and b.get_title(loc="left").startswith("B")
    assert c.get_title(loc="left").startswith("C")
    # Panel A: solid context bars and hatched one-hot bars; the tiny one-hot R² gets the "0" diamond
    assert [t.get_text() for t in a.get_yticklabels()] == fm.r2_words("Beatles")
    assert any(p.get_hatch() == "///" for p in a.patches)
    assert "0" in [t.get_text() for t in a.texts]
    # Panel B: split density, one-hot marker and the fraction label
    assert len(b.collections) >= 2
    assert any(ln.get_label().startswith("one-hot z = 0.1") for ln in b.lines)
    assert any("z > 0 in 81% of windows" in t.get_text() for t in b.texts)
    assert any("beneficial" in t.get_text() for t in b.texts)  # mode (1.0) > one-hot (0.1)
    # Panel C: three towers, ReLU threshold at 0
    tick = [t.get_text() for t in c.get_xticklabels()]
    assert tick.count("bias") == 3 and "orange" in tick
    assert any(ln.get_label() == "ReLU threshold (0)" for ln in c.lines)
    assert any(t.get_text().startswith("Σ context = -0.1") for t in c.texts)


def test_mechanism_missing_target_not_available():
    t = mech_tables("Beatles", present=False)
    with pytest.raises(NotAvailable, match="'Beatles': missing"):
        fm.mechanism_figure("Beatles", t["r2"], t["density"], t["towers"], t["metrics"])
    with pytest.raises(NotAvailable, match="not analysed"):
        fm.mechanism_figure("mbar", t["r2"], t["density"], t["towers"], t["metrics"])


def test_christmas_vs_months():
    t = mech_tables("Christmas")
    fig = fm.christmas_months(t["towers"], t["metrics"])
    right = fig.axes[1]
    assert len(right.patches) == 13  # 12 months + their sum
    assert [x.get_text() for x in right.get_xticklabels()] == list(MONTH_ABBR) + ["Σ"]
    total = 0.2 + 6 * 0.01 + 5 * -0.02  # December, 6 even-position months, 5 other odd-position months
    assert right.patches[-1].get_height() == pytest.approx(total)
    with pytest.raises(NotAvailable):
        fm.christmas_months(mech_tables("Beatles")["towers"], mech_tables("Christmas")["metrics"])


# ------------------------------------------------------------------------------------- rule entry points


def _write(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    out = {}
    for k, df in tables.items():
        p = tmp_path / f"{k}.parquet"
        df.to_parquet(p)
        out[k] = str(p)
    return out


def _capture(monkeypatch) -> list[Figure]:
    """Record every figure the figure stages save, to read what was drawn."""
    drawn: list[Figure] = []
    real = drawing.save_outputs

    def keep(fig, *args, **kwargs):
        drawn.append(fig)
        return real(fig, *args, **kwargs)

    monkeypatch.setattr(drawing, "save_outputs", keep)
    return drawn


def _unavailable_text(fig: Figure) -> str:
    """The message of a "not available at this scale" figure ('' for a drawn one)."""
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    return next((t.replace("\n", " ") for t in texts if t.startswith("not available at this scale")), "")


def test_figure_stages_write_every_format_and_not_available_figures(tmp_path, monkeypatch):
    figs = {"formats": ["pdf", "png"], "dpi": 50}
    drawn = _capture(monkeypatch)
    t = _write(tmp_path, mech_tables("Beatles", present=False))
    outs = [str(tmp_path / "mech_Beatles.png"), str(tmp_path / "mech_Beatles.pdf")]
    paths = mechanism_stage.draw_mechanism("Beatles", t, figs, outs)
    assert sorted(map(str, paths)) == sorted(outs)
    assert Path(outs[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and Path(outs[1]).read_bytes()[:5] == b"%PDF-"
    for p in outs:
        assert Path(p + ".prov.json").is_file()
    assert "Beatles" in _unavailable_text(drawn[-1])  # the target is not in the tables: said so, not drawn
    t = _write(tmp_path, {"ring": ring_table("data")})
    months_stage.draw_months("ring_data", t, figs, [str(tmp_path / "ring.png")])
    assert _unavailable_text(drawn[-1]) == ""
    # the ring is drawn through the twelve months' (pc1, pc2) in calendar order
    a = 2 * np.pi * np.arange(12) / 12
    months_xy = np.stack([np.cos(a), np.sin(a)], 1)
    polygons = [np.asarray(line.get_xydata(), float) for ax in drawn[-1].axes for line in ax.get_lines()]
    assert any(len(xy) >= 12 and np.allclose(xy[:12], months_xy) for xy in polygons)
    snapshot_stage.draw_structure_snapshot(4000, None, None, figs, [str(tmp_path / "snap.png")])
    assert (tmp_path / "snap.png").is_file() and _unavailable_text(drawn[-1]) != ""  # no groups table: not drawn
    assert any("L = 4000" in ax.get_title() for ax in drawn[-1].axes)
    with pytest.raises(ValueError, match="kind"):
        months_stage.draw_months("rings", t, figs, [str(tmp_path / "x.png")])


def test_figure_titles_name_the_model_from_its_identity(tmp_path, monkeypatch):
    """The snapshot names the model the rule gives; the UMAP subtitle takes the purity of that model only (by the
    clusters table's model columns), not of another model of the table."""
    figs = {"formats": ["png"], "dpi": 40}
    drawn = _capture(monkeypatch)
    spec = ModelSpec("relu", 16, 4.0, 2)
    groups = _write(tmp_path, {"groups": groups_table()})["groups"]
    snapshot_stage.draw_structure_snapshot(16, groups, spec, figs, [str(tmp_path / "snap.png")])
    assert drawn[-1]._suptitle.get_text() == "PCA snapshots at L = 16 (relu L16 wd4.0 seed2)"
    other = ModelSpec("relu", 16, 4.0, 1)
    clusters = pd.DataFrame(
        [
            {"model": m.tag, "variant": m.variant, "latent": m.latent, "wd": m.weight_decay, "seed": m.seed}
            | {"metric": "knn_purity", "value": v, "null_mean": 0.1, "null_sd": 0.01}
            for m, v in ((other, 0.9), (spec, 0.42))
        ]
    )
    t = _write(tmp_path, {"umap": umap_table(), "clusters": clusters})
    umap_stage.draw_umap(spec, t, figs, [str(tmp_path / "umap.png")])
    title = drawn[-1].axes[0].get_title()
    assert title.startswith("UMAP of word embeddings: relu L16 wd4.0 seed2\n") and "purity 0.42 (null 0.10" in title


#: the config a figure stage may read besides ``figures``: the snapshot sizes the sweep marks
FIGURE_SECTIONS = {"figures": None, "analysis": ("snapshot_latents",)}


def sections_beyond_figures(stage: Stage, allowed=FIGURE_SECTIONS) -> list[str]:
    """The config a figure stage declares beyond ``allowed`` (section → the keys allowed, None: all of it)."""
    beyond = []
    for section in stage.section_specs:
        if section.name not in allowed:
            beyond.append(section.name)
        elif allowed[section.name] is not None and not set(section.only or ["*"]) <= set(allowed[section.name]):
            beyond.append(f"{section.name} ({', '.join(section.only or ['all'])})")
    return beyond


def test_the_section_check_finds_planted_sections():
    assert sections_beyond_figures(Stage("x", sections=("figures",))) == []
    assert sections_beyond_figures(Stage("x", sections=("figures", "train"))) == ["train"]
    planted = Stage("x", sections=(Section("analysis", only=("snapshot_latents", "seed")),))
    assert sections_beyond_figures(planted) == ["analysis (snapshot_latents, seed)"]
    assert sections_beyond_figures(Stage("x", sections=("analysis",))) == ["analysis (all)"]


def test_paper_figure_stages_read_only_figure_settings():
    """Figure jobs' params are config["figures"] (plus the snapshot sizes the sweep marks), the code hash and the
    identity of the models they draw, never settings of training or metrics: a plot setting reruns figures only."""
    import importlib

    text = (ROOT / "workflow" / "rules" / "figures.smk").read_text()
    stages = re.findall(r"^import (bows\.figures\.stages\.\w+) as \w+$", text, flags=re.M)
    assert len(stages) == 10
    for module in stages:
        assert sections_beyond_figures(importlib.import_module(module).STAGE) == [], module
    for rule in re.split(r"(?m)^(?=rule )", text)[1:]:
        assert "script:\n        STAGE_SCRIPT" in rule, rule.split(":")[0]
        extra = re.search(r"stage_params\(\w+\.STAGE(.*)\)", rule).group(1)
        assert set(re.findall(r"(\w+)=", extra)) <= {"model", "models"}, rule.split(":")[0]


#: what a rule file must not load when the workflow is parsed (seconds each on a loaded machine)
HEAVY = ("matplotlib", "seaborn", "torch", "sklearn", "numba")
#: the rule files whose rules run the stages of figures, synthetic BOWS, SAEs and value coding
RULE_FILES = ("figures", "synthetic", "sae", "value_coding")


def heavy_imports(modules: list[str]) -> list[str]:
    """The modules of :data:`HEAVY` that importing ``modules`` loads (in a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(' '.join(sorted(h for h in {HEAVY!r} if h in sys.modules)))\n"
    )
    workflow_dir = str(ROOT / "workflow")
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {workflow_dir!r})\n" + code],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.split()


def test_stage_modules_load_no_plotting_or_training_code():
    """The rule files import every stage module for its STAGE when the workflow is parsed: no matplotlib, no torch
    then (a figure module itself loads matplotlib, which the check sees)."""
    text = "".join((ROOT / "workflow" / "rules" / f"{name}.smk").read_text() for name in RULE_FILES)
    stages = sorted(set(re.findall(r"^import (bows\.[\w.]+) as \w+$", text, flags=re.M)) - {"bows.devices"})
    assert len(stages) == 25, stages
    assert heavy_imports(stages) == []
    assert heavy_imports(["bows.figures.months"]) == ["matplotlib", "seaborn"]
