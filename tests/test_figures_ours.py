"""Our figures (bows.figures.sweeps, bows.figures.criteria), their stage and the report tables on small tables with
known content."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from bows.claims import Record, write_claims  # noqa: E402
from bows.figures import criteria as crit  # noqa: E402
from bows.figures import drawing, report_tables, sweeps  # noqa: E402
from bows.figures.drawing import NotAvailable  # noqa: E402
from bows.figures.latent_axes import log_latent_axis  # noqa: E402
from bows.figures.stages import sweeps as sweeps_stage  # noqa: E402
from bows.grid import ModelSpec  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

LATENTS = (10, 20, 40, 80)


def _texts(fig: Figure) -> list[str]:
    """Every text drawn in ``fig``: titles, labels, tick labels, legend entries and free text."""
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return [t for t in out if t]


def _tidy(
    model: str, latent: int, wd: float, seed: int, scope: str, metric: str, value: float, status: str = "ok"
) -> dict:
    return {
        "model": model,
        "variant": None if model == "data" else "relu",
        "latent": None if model == "data" else latent,
        "wd": None if model == "data" else wd,
        "seed": None if model == "data" else seed,
        "scope": scope,
        "item": "",
        "metric": metric,
        "value": value,
        "status": status,
    }


@pytest.fixture
def planted_losses() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Final losses exactly 2·L^−0.5 at wd 1 (two seeds), and the loss_fit row a fit of them gives."""
    rows = []
    for L in LATENTS:
        for seed in (1, 2):
            for epoch in (1, 2):
                loss = 2.0 * L**-0.5 * (1.1 if epoch == 1 else 1.0)
                rows.append(
                    {
                        "model": f"relu/L{L}_wd1.0_seed{seed}",
                        "variant": "relu",
                        "latent": L,
                        "wd": 1.0,
                        "seed": seed,
                        "epoch": epoch,
                        "train_loss": loss,
                        "val_loss": loss,
                    }
                )
    rows.append(
        {
            "model": "relu/L40_wd4.0_seed1",
            "variant": "relu",
            "latent": 40,
            "wd": 4.0,
            "seed": 1,
            "epoch": 2,
            "train_loss": 0.4,
            "val_loss": 0.4,
        }
    )
    losses = pd.DataFrame(rows)
    last = sweeps.final_losses(losses)
    sel = last[last["wd"] == 1.0]
    slope, intercept = np.polyfit(np.log(sel["latent"]), np.log(sel["val_loss"]), 1)
    fit = pd.DataFrame(
        [
            {
                "variant": "relu",
                "wd": 1.0,
                "split": split,
                "exponent": -slope,
                "exponent_lo": -slope - 0.01,
                "exponent_hi": -slope + 0.01,
                "prefactor": float(np.exp(intercept)),
                "n_models": 8,
                "n_latents": 4,
                "r2_log": 1.0,
                "status": "ok",
            }
            for split in ("val", "train")
        ]
        + [
            {
                "variant": "relu",
                "wd": 4.0,
                "split": split,
                "exponent": np.nan,
                "exponent_lo": np.nan,
                "exponent_hi": np.nan,
                "prefactor": np.nan,
                "n_models": 1,
                "n_latents": 1,
                "r2_log": np.nan,
                "status": "too few models: need >= 3 models over >= 2 latent sizes",
            }
            for split in ("val", "train")
        ]
    )
    return losses, fit


def test_final_losses_take_the_last_epoch(planted_losses) -> None:
    losses, _ = planted_losses
    last = sweeps.final_losses(losses)
    assert len(last) == 2 * len(LATENTS) + 1
    row = last[(last["latent"] == 10) & (last["seed"] == 1)].iloc[0]
    assert row["val_loss"] == pytest.approx(2.0 * 10**-0.5)


def test_loss_figure_labels_the_planted_exponent(planted_losses) -> None:
    losses, fit = planted_losses
    assert fit.loc[0, "exponent"] == pytest.approx(0.5)
    fig = sweeps.loss_figure(losses, fit)
    texts = " | ".join(_texts(fig))
    assert "α = 0.500 [0.490, 0.510]" in texts
    assert "wd 4: no fit (1 latent size)" in texts
    ax = fig.axes[0]
    # the fitted line passes through the planted points: c·L^−α at the ends of the L range
    line = next(ln for ln in ax.get_lines() if len(ln.get_xdata()) == 50)
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    np.testing.assert_allclose(y, 2.0 * x**-0.5, rtol=1e-9)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_loss_figure_without_losses_is_not_available() -> None:
    with pytest.raises(NotAvailable, match="no training losses"):
        sweeps.loss_figure(pd.DataFrame(columns=["model", "epoch"]), pd.DataFrame())


def test_fit_label_forms() -> None:
    assert (
        sweeps.fit_label({"status": "ok", "exponent": 0.25, "exponent_lo": 0.2, "exponent_hi": 0.3})
        == "α = 0.250 [0.200, 0.300]"
    )
    assert sweeps.fit_label({"status": "ok", "exponent": 0.25}) == "α = 0.250"
    assert sweeps.fit_label({"status": "fit failed", "exponent": np.nan, "n_latents": 3}).startswith("no fit (fit")


def _model_metrics() -> pd.DataFrame:
    rows = []
    n = 100
    for L in LATENTS:
        for seed in (1, 2):
            tag = f"relu/L{L}_wd1.0_seed{seed}"
            vals = {
                "d_star": L / (0.5 * L),
                "dim_frac_mean": L / n,
                "phi_half": min(1.0, L / 50),
                "phi_one": min(1.0, L / 100),
                "msq_overlap": 1.2 / L,
                "msq_random": 1 / L,
                "msq_welch": (n - L) / (L * (n - 1)),
                "frob2_over_latent": 0.5 + 0.001 * seed,
            }
            rows += [_tidy(tag, L, 1.0, seed, "model", k, v) for k, v in vals.items()]
    return pd.DataFrame(rows)


def _words() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for L in LATENTS:
        for seed in (1, 2):
            frames.append(
                pd.DataFrame(
                    {
                        "word": [f"w{i}" for i in range(100)],
                        "norm": rng.uniform(0, 1, 100),
                        "dim_frac": rng.uniform(0.5, 1.5, 100) * L / 100,
                        "model": f"relu/L{L}_wd1.0_seed{seed}",
                        "variant": "relu",
                        "latent": L,
                        "wd": 1.0,
                        "seed": seed,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def test_dimensionality_figure_draws_metrics_and_baselines() -> None:
    fig = sweeps.dimensionality_figure(_model_metrics(), _words())
    texts = " | ".join(_texts(fig))
    for expected in ("(a)", "(b)", "(c)", "(d)", "random 1/L", "Welch bound", "rank-L projector"):
        assert expected in texts
    ax_d, ax_phi, ax_ov, ax_fr = fig.axes[:4]
    assert len(ax_d.patches) >= len(LATENTS)  # one box per latent size
    # φ½ means over seeds are plotted at each L: min(1, L/50)
    ys = sorted(np.round(np.asarray(ax_phi.get_lines()[0].get_ydata(), float), 6))
    assert ys == sorted(round(min(1.0, L / 50), 6) for L in LATENTS)
    assert ax_ov.get_yscale() == "log"


def test_dimensionality_figure_without_data_is_not_available() -> None:
    with pytest.raises(NotAvailable):
        sweeps.dimensionality_figure(
            pd.DataFrame(columns=["model", "scope", "metric", "value", "status"]), pd.DataFrame()
        )


def test_read_words_labels_each_table_with_its_model(tmp_path: Path) -> None:
    words = {}
    for k, spec in enumerate((ModelSpec("relu", 16, 4.0, 2), ModelSpec("linear", 8, 0.0, 1))):
        path = tmp_path / f"words{k}.parquet"  # the path says nothing about the model
        pd.DataFrame(
            {"index": [0], "word": ["a"], "norm": [1.0], "bias": [0.0], "onehot_z": [1.0], "dim_frac": [0.5 + k]}
        ).to_parquet(path)
        words[spec] = path
    table = sweeps_stage.read_words(words)
    columns = ["variant", "latent", "wd", "seed", "model", "dim_frac"]
    assert table[columns].values.tolist() == [
        ["relu", 16, 4.0, 2, "relu/L16_wd4.0_seed2", 0.5],
        ["linear", 8, 0.0, 1, "linear/L8_wd0.0_seed1", 1.5],
    ]


def _circ_metrics(month_value: float = np.nan, status: str = "ok") -> pd.DataFrame:
    rows = [
        _tidy("data", 0, 0, 0, "Months", "order_agreement", 0.9),
        _tidy("data", 0, 0, 0, "Months", "circulant_r2", 0.8),
    ]
    for L in LATENTS:
        for m, v in (("order_agreement", 0.95 - L / 200), ("circulant_r2", 0.9 - L / 200)):
            rows += [
                _tidy(
                    f"relu/L{L}_wd1.0_seed1",
                    L,
                    1.0,
                    1,
                    "Months",
                    m,
                    v if np.isnan(month_value) else month_value,
                    status,
                ),
                _tidy(f"relu/L{L}_wd1.0_seed1", L, 1.0, 1, "Months", f"{m}_null_mean", 0.3),
                _tidy(f"relu/L{L}_wd1.0_seed1", L, 1.0, 1, "Months", f"{m}_null_sd", 0.05),
            ]
        rows.append(_tidy(f"relu/L{L}_wd1.0_seed1", L, 1.0, 1, "Planets", "order_agreement", 0.5))
    return pd.DataFrame(rows)


def test_circularity_figure_shows_null_band_and_data_line() -> None:
    ma = _circ_metrics()
    assert sweeps.cyclic_groups(ma) == ["Months"]
    fig = sweeps.circularity_figure(ma)
    texts = " | ".join(_texts(fig))
    assert "Months: order agreement A" in texts and "Months: circulant R²" in texts
    assert "shuffled null ± 2 sd" in texts and "measured on the data" in texts
    ax = fig.axes[0]
    assert any(abs(ln.get_ydata()[0] - 0.9) < 1e-12 for ln in ax.get_lines() if len(ln.get_ydata()) == 2)


def test_circularity_nan_values_give_a_not_available_panel() -> None:
    fig = sweeps.circularity_figure(
        _circ_metrics(month_value=np.nan, status="missing: word not in vocabulary").assign(
            value=lambda d: d["value"].where(d["model"] == "data", np.nan)
        )
    )
    assert any("not available at this scale" in t for t in _texts(fig))


def test_cluster_figure_and_all_nan_clusters() -> None:
    rows = []
    for wd in (0.0, 4.0):
        for metric, v in (("knn_purity", 0.3 + wd / 10), ("silhouette_cos", -0.1 + wd / 20)):
            rows.append(
                {
                    "model": f"relu/L800_wd{wd}_seed1",
                    "variant": "relu",
                    "latent": 800,
                    "wd": wd,
                    "seed": 1,
                    "metric": metric,
                    "value": v,
                    "null_mean": 0.1,
                    "null_sd": 0.01,
                    "p_value": 0.01,
                    "n_words": 120.0,
                    "status": "ok",
                }
            )
    cl = pd.DataFrame(rows)
    fig = sweeps.cluster_figure(cl)
    texts = " | ".join(_texts(fig))
    assert "wd 0" in texts and "wd 4" in texts and "120 category words" in texts
    with pytest.raises(NotAvailable, match="NaN"):
        sweeps.cluster_figure(cl.assign(value=np.nan, status="rare: no category words"))
    with pytest.raises(NotAvailable):
        sweeps.cluster_figure(cl.iloc[0:0])


CRITERIA = [
    Record(1, "vocabulary integrity", 10000, 10000, "pass", "|vocab| = 10000", "V=10000"),
    Record(
        3,
        "month correlation is circulant-like",
        {"spearman": -0.657, "inversions": 1.0},
        {"spearman_max": -0.8},
        "fail",
        "WikiText-103",
        "train windows",
    ),
    Record(
        6,
        "seasonal alignment",
        None,
        7.0,
        "not_applicable",
        "L1000 wd4.0",
        "relu/L16_wd4.0_seed1",
        reason="only 0 of 9 seasonal words are in the vocabulary",
    ),
    Record(
        7,
        "non-orthogonality",
        {"relu/L16": {"mean_abs_cos": 0.2, "pass": False}},
        None,
        "fail",
        "L1000",
        "relu/L16",
    ),
    Record(9, "snapshot check", None, None, "error", "L400", "", reason="KeyError: 'n_found'"),
]


def _criteria_json(path: Path) -> Path:
    write_claims(CRITERIA, path.with_suffix(""))
    return path


def test_criteria_table_and_dashboard(tmp_path: Path) -> None:
    table = crit.criteria_table(_criteria_json(tmp_path / "criteria.json"))
    assert list(table.columns) == crit.COLUMNS
    assert table["status"].tolist() == ["pass", "fail", "not_applicable", "fail", "error"]
    assert table.loc[2, "reason"] == "only 0 of 9 seasonal words are in the vocabulary"
    assert table.loc[1, "value"] == "spearman: -0.657, inversions: 1"
    fig = crit.criteria_figure(table)
    texts = " | ".join(_texts(fig))
    assert "1 pass · 2 fail · 1 not applicable · 1 error" in texts
    assert texts.count("PASS") == 1 and texts.count("FAIL") == 2 and texts.count("N/A") == 1
    assert texts.count("ERROR") == 1 and "KeyError" in texts  # a raising criterion is shown as such
    assert "seasonal words" in texts  # the reason is shown
    assert "WikiText-103" in texts  # the paper's scale is shown
    write_claims([], tmp_path / "empty")
    with pytest.raises(NotAvailable):
        crit.criteria_figure(crit.criteria_table(tmp_path / "empty.json"))


def test_render_criteria_writes_png_and_html(tmp_path: Path) -> None:
    src = _criteria_json(tmp_path / "criteria.json")
    out = crit.render_criteria(src, [tmp_path / "dash.png"], {"dpi": 50}, html=tmp_path / "criteria.html")
    assert [p.name for p in out] == ["dash.png"]
    assert (tmp_path / "dash.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (tmp_path / "criteria.html").read_text()
    assert "<table" in html and ">N/A</span>" in html and ">ERROR</span>" in html
    assert "1 pass · 2 fail · 1 not applicable · 1 error" in html
    assert (tmp_path / "dash.png.prov.json").is_file() and (tmp_path / "criteria.html.prov.json").is_file()


def test_draw_writes_the_not_available_figure(tmp_path: Path, monkeypatch) -> None:
    def fail() -> Figure:
        raise NotAvailable("Christmas is not in the vocabulary")

    drawn = []
    real = drawing.save_outputs
    monkeypatch.setattr(drawing, "save_outputs", lambda fig, *a, **k: drawn.append(fig) or real(fig, *a, **k))
    paths = drawing.draw(fail, "Christmas", [tmp_path / "x.png", tmp_path / "x.pdf"], {"dpi": 50, "width": 5.0})
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"
    (ax,) = drawn[0].axes  # one panel: the reason, under the figure's title
    assert ax.get_title() == "Christmas"
    assert [t.get_text().replace("\n", " ") for t in ax.texts] == [
        "not available at this scale: Christmas is not in the vocabulary"
    ]
    assert tuple(drawn[0].get_size_inches()) == (5.0, drawing.UNAVAILABLE_HEIGHT)
    drawing.draw(fail, "Christmas", [tmp_path / "y.png"], {"dpi": 50, "width": 5.0}, unavailable_aspect=0.4)
    assert tuple(drawn[1].get_size_inches()) == (5.0, 2.0)  # the paper figures' aspect: 0.4 × the width


def test_write_report_tables(tmp_path: Path) -> None:
    ma = _model_metrics()
    ma.to_parquet(tmp_path / "metrics_all.parquet")
    out = report_tables.write_report_table(
        "model_metrics", tmp_path / "metrics_all.parquet", {"csv": tmp_path / "mm.csv", "html": tmp_path / "mm.html"}
    )
    wide = pd.read_csv(out[0])
    assert len(wide) == len(LATENTS) * 2
    assert {"d_star", "phi_half", "msq_welch"} <= set(wide.columns)
    # one row per model, its metrics as columns: the planted ‖W‖²_F/L of each seed
    assert sorted(set(wide["frob2_over_latent"].round(6))) == [0.501, 0.502]
    assert "<table" in Path(out[1]).read_text()
    assert all(Path(f"{p}.prov.json").is_file() for p in out)


def test_exposure_table_has_one_row_per_trained_weight_decay() -> None:
    """E = wd · Σ lr_t is the same for every model of a weight decay; the pca models train nothing."""
    subspace = pd.DataFrame(
        {
            "model": ["relu/L4_wd1.0_seed1", "relu/L8_wd1.0_seed1", "linear/L8_wd4.0_seed1", "pca/L8_wd0.0_seed1"],
            "variant": ["relu", "relu", "linear", "pca"],
            "wd": [1.0, 1.0, 4.0, 0.0],
            "steps": [40.0, 40.0, 40.0, np.nan],
            "decay_exposure": [0.5, 0.5, 2.0, np.nan],
            "decay_exposure_paper": [8.8, 8.8, 35.2, np.nan],
        }
    )
    table = report_tables.exposure_table(subspace)
    assert table.values.tolist() == [[1.0, 40, 0.5, 8.8, 2], [4.0, 40, 2.0, 35.2, 1]]
    assert report_tables.exposure_table(subspace[subspace["variant"] == "pca"]).empty


def test_latent_axis_labels_do_not_crowd() -> None:
    from bows.figures.theme import new_figure

    fig, ax = new_figure()
    ls = [50, 75, 100, 125, 150, 200, 250, 300, 400, 600, 800, 1000, 2000, 4000, 6000, 10000]
    ax.plot(ls, np.ones(len(ls)))
    log_latent_axis(ax, ls)
    major = list(ax.xaxis.get_major_locator().tick_values(1, 2))
    assert major[0] == 50 and major[-1] == 10000
    assert all(b / a >= 1.8 for a, b in zip(major, major[1:]))
    assert set(major) | set(ax.xaxis.get_minor_locator().tick_values(1, 2)) == set(ls)
