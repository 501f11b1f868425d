"""The co-occurrence ablation: removed windows against brute force, the size-matched control, the written window
sets, the ablation table and its criterion on planted tables, the config checks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from bows.ablation import (
    ablate_windows,
    ablated_windows,
    ablation_models,
    cooccurrence_windows,
    random_drop,
    window_set_suffixes,
)
from bows.config import load_config
from bows.encode import Docs, save_docs
from bows.errors import ConfigError
from bows.grid import ModelSpec, model_grid
from bows.metrics.ablation import caption_lines, ring_survival, summary_table
from bows.metrics.data_stats import order_rows
from bows.metrics.geometry import adjacent_pairs, winding_number
from bows.metrics.tables import Rows
from bows.schema import defaults
from bows.vocab import write_vocab
from bows.windows import split_windows
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip


def random_rows(rng: np.random.Generator, n: int, V: int, max_len: int = 5) -> list[list[int]]:
    return [sorted(set(rng.integers(0, V, size=rng.integers(0, max_len + 1)).tolist())) for _ in range(n)]


def as_docs(rows: list[list[int]], V: int) -> Docs:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    return Docs(indptr, np.array([j for r in rows for j in r], dtype=np.uint16), V)


def brute_force(rows: list[list[int]], G: int, S: int, groups: list[list[int]]) -> list[bool]:
    """Every window enumerated in plain Python: does it hold two distinct words of one group?"""
    n_win = (len(rows) - G) // S + 1 if len(rows) >= G else 0
    out = []
    for w in range(n_win):
        words = set()
        for r in rows[w * S : w * S + G]:
            words |= set(r)
        out.append(any(len(words & {i for i in g if i >= 0}) >= 2 for g in groups))
    return out


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 60),
    V=st.integers(2, 25),
    G=st.integers(1, 7),
    S=st.integers(1, 3),
    n_groups=st.integers(1, 2),
    seed=st.integers(0, 2**31 - 1),
)
def test_removed_windows_match_brute_force(n, V, G, S, n_groups, seed):
    rng = np.random.default_rng(seed)
    rows = random_rows(rng, n, V)
    groups = [rng.choice(V, size=rng.integers(1, min(V, 6) + 1), replace=False).tolist() for _ in range(n_groups)]
    groups[0].append(-1)  # a group word missing from the vocabulary never occurs
    hit = cooccurrence_windows(*_csr(rows, V), V, G, S, [np.array(g) for g in groups])
    assert hit.tolist() == brute_force(rows, G, S, groups)


def _csr(rows, V):
    docs = as_docs(rows, V)
    return docs.indptr, docs.indices


def test_a_repeated_word_is_not_cooccurrence():
    # records: [March], [], [March, x], [May]: windows of 2 records
    rows = [[2], [], [2, 9], [4]]
    hit = cooccurrence_windows(*_csr(rows, 10), 10, 2, 1, [np.array([2, 4])])
    assert hit.tolist() == [False, False, True]  # {2}, {2, 9}, {2, 9, 4}
    assert cooccurrence_windows(*_csr([[2, 4]], 10), 10, 1, 1, [np.array([2, 4])]).tolist() == [True]


def test_control_drops_as_many_seeded():
    train = np.arange(0, 3000, 3, dtype=np.int64)
    a, b = random_drop(train, 250, seed=7), random_drop(train, 250, seed=7)
    assert np.array_equal(a, b) and len(a) == len(train) - 250
    assert np.all(np.diff(a) > 0) and np.isin(a, train).all()
    assert not np.array_equal(a, random_drop(train, 250, seed=8))
    assert len(random_drop(train, 0, 1)) == len(train) and len(random_drop(train, len(train), 1)) == 0
    with pytest.raises(ValueError):
        random_drop(train, len(train) + 1, 1)


def test_ablated_and_control_sizes():
    rng = np.random.default_rng(3)
    cooc = rng.random(500) < 0.2
    train = np.sort(rng.choice(500, 400, replace=False))
    ablated, control = ablated_windows(train, cooc, seed=1)
    assert len(ablated) == len(control) == len(train) - cooc[train].sum()
    assert not cooc[ablated].any()
    assert cooc[control].any()  # a random drop keeps windows with co-occurrence


@pytest.fixture
def tiny_run(tmp_path):
    """A vocabulary with the twelve months, 300 records, G = 4: the full set's windows and the ablated sets."""
    words = MONTHS + [f"w{k}" for k in range(18)]
    V = len(words)
    rng = np.random.default_rng(11)
    rows = random_rows(rng, 300, V, max_len=3)
    write_vocab(tmp_path / "vocab.tsv", words, np.arange(V, 0, -1), n_forced=12)
    save_docs(tmp_path / "train", as_docs(rows, V))
    G, S = 4, 1
    train, held = split_windows(300 - G + 1, G, S, 0.1, 3, seed=5)
    np.save(tmp_path / "train_windows.npy", train)
    np.save(tmp_path / "heldout_windows.npy", held)
    windows = {"exclude_cooccurrence": ["Months"], "group_size": G, "stride": S, "seed": 42}
    stats = ablate_windows(
        tmp_path / "train",
        tmp_path / "vocab.tsv",
        tmp_path / "train_windows.npy",
        tmp_path / "heldout_windows.npy",
        {"ablated": tmp_path / "ablated", "control": tmp_path / "control"},
        windows,
        defaults()["analysis"]["word_groups"],
    )
    return tmp_path, rows, train, held, stats


def test_written_sets(tiny_run):
    t, rows, train, held, stats = tiny_run
    months = list(range(12))
    bad = brute_force(rows, 4, 1, [months])
    ablated = np.load(t / "ablated" / "train_windows.npy")
    control = np.load(t / "control" / "train_windows.npy")
    n_removed = sum(bad[w] for w in train)
    assert 0 < n_removed < len(train)
    assert not any(bad[w] for w in ablated)  # no window with two distinct months is left
    assert sorted(ablated.tolist()) == [w for w in train.tolist() if not bad[w]]
    assert len(control) == len(ablated) and set(control) <= set(train.tolist())
    assert np.array_equal(np.load(t / "control" / "heldout_windows.npy"), held)
    assert np.array_equal(np.load(t / "ablated" / "heldout_windows.npy"), held)
    for kind in ("ablated", "control"):
        js = json.loads((t / kind / "windows.json").read_text())
        assert js["removed_windows"] == n_removed and js["full_train_windows"] == len(train)
        assert js["train_windows"] == len(train) - n_removed and js["window_set"] == kind
        assert js["removed_by_group"] == {"Months": n_removed}
    assert stats["control"]["cooccurrence_kept"] == sum(bad[w] for w in control)
    assert stats["ablated"]["cooccurrence_kept"] == 0


def test_control_is_reproducible(tiny_run, tmp_path_factory):
    t, _, _, _, _ = tiny_run
    other = tmp_path_factory.mktemp("again")
    windows = {"exclude_cooccurrence": ["Months"], "group_size": 4, "stride": 1, "seed": 42}
    ablate_windows(
        t / "train",
        t / "vocab.tsv",
        t / "train_windows.npy",
        t / "heldout_windows.npy",
        {"ablated": other / "a", "control": other / "c"},
        windows,
        defaults()["analysis"]["word_groups"],
    )
    assert np.array_equal(np.load(other / "c" / "train_windows.npy"), np.load(t / "control" / "train_windows.npy"))


def test_unknown_group_fails_before_writing(tiny_run, tmp_path_factory):
    t, _, _, _, _ = tiny_run
    out = tmp_path_factory.mktemp("bad")
    with pytest.raises(ConfigError, match="Seasons"):
        ablate_windows(
            t / "train",
            t / "vocab.tsv",
            t / "train_windows.npy",
            t / "heldout_windows.npy",
            {"ablated": out / "a", "control": out / "c"},
            {"exclude_cooccurrence": ["Seasons"], "group_size": 4, "stride": 1, "seed": 1},
            defaults()["analysis"]["word_groups"],
        )
    assert not any(out.iterdir())


# ------------------------------------------------------------------------------------ the table and its criterion
def ring_metrics(order: list[int], model: ModelSpec | None, n_perm: int = 200) -> pd.DataFrame:
    """Tidy Months ring rows of 12 points on a circle placed in ``order`` (calendar order: a perfect ring)."""
    angles = np.empty(12)
    angles[order] = 2 * np.pi * np.arange(12) / 12
    P = np.c_[np.cos(angles), np.sin(angles)]
    rows = Rows(model)
    rows.add("Months", "ring_adjacent_pairs", adjacent_pairs(angles))
    rows.add("Months", "ring_pairs_total" if model is None else "n_found", 12)
    rows.add("Months", "ring_winding", winding_number(P))
    order_rows(rows, "Months", angles, n_perm, seed=0)
    return rows.frame()


MODEL = ModelSpec("relu", 16, 4.0, 1)
CALENDAR = list(range(12))
SHUFFLED = [0, 6, 3, 9, 1, 7, 4, 10, 2, 8, 5, 11]
TH = {"ablation_min_ring_ratio": 0.8, "ablation_control_max_p": 0.05}


def planted_table(ablated_order, control_order, removed=100):
    stats = {
        "full": {"train_windows": 1000},
        "ablated": {"train_windows": 1000 - removed},
        "control": {"train_windows": 1000 - removed},
    }
    data = {s: ring_metrics(CALENDAR if s != "ablated" else SHUFFLED, None) for s in stats}
    models = {
        ("full", MODEL.tag): ring_metrics(CALENDAR, MODEL),
        ("ablated", MODEL.tag): ring_metrics(ablated_order, MODEL),
        ("control", MODEL.tag): ring_metrics(control_order, MODEL),
    }
    return summary_table(stats, data, models, ["Months"])


def test_summary_table_reads_the_metric_tables():
    table = planted_table(CALENDAR, CALENDAR)
    assert len(table) == 6  # 3 sets × (data, model) × Months
    full_model = table[(table["window_set"] == "full") & (table["source"] == MODEL.tag)].iloc[0]
    assert full_model["adjacent_pairs"] == 12 and full_model["pairs_total"] == 12 and full_model["winding"] in (1, -1)
    assert full_model["order_agreement"] == pytest.approx(1.0) and full_model["order_agreement_p"] < 0.05
    data_ablated = table[(table["window_set"] == "ablated") & (table["source"] == "data")].iloc[0]
    assert data_ablated["adjacent_pairs"] < 6 and data_ablated["order_agreement_corrected"] < 0.5
    assert table.set_index("window_set")["windows_removed"].to_dict() == {"full": 0, "ablated": 100, "control": 100}
    assert (table["windows_kept"] + table["windows_removed"] == 1000).all()


def test_criterion_passes_when_the_ring_survives():
    rec = ring_survival(planted_table(CALENDAR, CALENDAR), TH, MODEL.tag, ["Months"])
    assert rec.status == "pass" and rec.value == pytest.approx(1.0) and rec.id == "ablation_ring"
    assert rec.threshold == {"min_ring_ratio": 0.8, "control_max_p": 0.05}
    assert "100 of 1,000" in rec.evaluated_at and rec.claimed_at.startswith("Karkada")


def test_caption_lines_quote_the_table_and_the_record():
    table = planted_table(CALENDAR, CALENDAR)
    rec = ring_survival(table, TH, MODEL.tag, ["Months"])
    lines = caption_lines(table, rec)
    assert lines["removed"] == "100 of 1,000 training windows (10.0 %)"
    assert f"{MODEL.tag} on full: A* = 1.00, 12/12 adjacent" in lines["rings"]
    assert lines["rings"].count(" on ") == 6 and lines["rings"].endswith(".")
    assert lines["criterion"] == "Criterion ``ablation_ring``: **pass** (ratio ablated / control 1.00, threshold 0.8)."
    lost = ring_survival(planted_table(CALENDAR, SHUFFLED), TH, MODEL.tag, ["Months"])
    assert caption_lines(table, lost)["criterion"] == f"Criterion ``ablation_ring``: **not_applicable**: {lost.reason}."


def test_criterion_fails_when_the_ring_is_lost():
    rec = ring_survival(planted_table(SHUFFLED, CALENDAR), TH, MODEL.tag, ["Months"])
    assert rec.status == "fail" and rec.value < 0.8


def test_criterion_threshold_is_the_configured_one():
    # one month out of place: a ratio just below 1 passes at 0.8 and fails at 0.99
    nearly = [0, 1, 2, 3, 4, 5, 6, 8, 7, 9, 10, 11]
    table = planted_table(nearly, CALENDAR)
    value = ring_survival(table, TH, MODEL.tag, ["Months"]).value
    assert 0.8 < value < 0.99
    assert ring_survival(table, TH, MODEL.tag, ["Months"]).status == "pass"
    assert ring_survival(table, {**TH, "ablation_min_ring_ratio": 0.99}, MODEL.tag, ["Months"]).status == "fail"


def test_criterion_not_applicable_without_a_control_ring():
    rec = ring_survival(planted_table(CALENDAR, SHUFFLED), TH, MODEL.tag, ["Months"])
    assert rec.status == "not_applicable" and "no Months ring" in rec.reason


def test_criterion_not_applicable_when_nothing_was_removed():
    rec = ring_survival(planted_table(CALENDAR, CALENDAR, removed=0), TH, MODEL.tag, ["Months"])
    assert rec.status == "not_applicable" and "removed no window" in rec.reason


def test_criterion_reports_errors():
    broken = planted_table(CALENDAR, CALENDAR).drop(columns=["order_agreement_p"])
    rec = ring_survival(broken, TH, MODEL.tag, ["Months"])
    assert rec.status == "error" and "order_agreement_p" in rec.reason
    assert ring_survival(None, TH, MODEL.tag, ["Months"]).status == "not_applicable"
    assert ring_survival(planted_table(CALENDAR, CALENDAR), TH, MODEL.tag, []).status == "not_applicable"


# ----------------------------------------------------------------------------------------------- config and paths
def test_window_set_suffixes():
    assert window_set_suffixes([]) == {"full": ""}
    assert window_set_suffixes(["Months"]) == {"full": "", "ablated": "_nocooc-Months", "control": "_ctrl-Months"}
    assert window_set_suffixes(["Months", "Roman numerals"])["ablated"] == "_nocooc-Months+Roman_numerals"


def load(**overrides):
    return load_config(ROOT / "config.yaml", overrides=overrides)


def test_ablation_models_resolve():
    cfg = load()
    months = cfg["analysis"]["models"]["months"]
    assert ablation_models(cfg)[0] == ModelSpec("relu", months["latent"], months["weight_decay"], months["seed"])
    assert ablation_models(cfg)[1] == ModelSpec("pca", months["latent"], 0.0, 1)
    cfg = load(analysis={"models": {"ablation": [{"latent": 100, "weight_decay": 1.0}, "mechanism", "months"]}})
    assert [s.tag for s in ablation_models(cfg)][0] == "relu/L100_wd1.0_seed1"


@pytest.mark.parametrize(
    "overrides,match",
    [
        ({"windows": {"exclude_cooccurrence": ["Seasons"]}}, "Seasons"),
        ({"analysis": {"models": {"ablation": [{"latent": 77}]}}}, "relu/L77_wd1.0_seed1"),
        ({"analysis": {"models": {"ablation": [{"latent": 25, "variant": "pca"}]}}}, "pca"),
        ({"analysis": {"models": {"ablation": ["decembers"]}}}, "ablation"),
    ],
)
def test_config_checks(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load(**{"windows": {"exclude_cooccurrence": ["Months"]}, **overrides})  # on (config.yaml has it off)


def test_off_needs_nothing():
    cfg = load(windows={"exclude_cooccurrence": []}, analysis={"models": {"ablation": [{"latent": 77}]}})
    assert cfg["windows"]["exclude_cooccurrence"] == []


# --------------------------------------------------------------------------------------- the smoke run, end to end
@pytest.mark.workflow
def test_smoke_run_ablation(smoke_run):
    """The smoke preset runs the ablation: the removed windows equal a brute-force count over the run's own
    documents, both sets' models are trained on their own windows, the table repeats metrics_model's rings, and the
    criterion and the figure are written."""
    from bows.claims import STATUSES, read_claims
    from bows.encode import load_docs
    from bows.vocab import read_vocab

    res = smoke_run / "results" / "smoke"
    cfg = load_config(ROOT / "config.yaml", ROOT / "presets" / "smoke.yaml")
    G, S = cfg["windows"]["group_size"], cfg["windows"]["stride"]
    base = f"V{cfg['vocab']['size']}_G{G}_S{S}"
    words = read_vocab(res / f"V{cfg['vocab']['size']}" / "vocab.tsv").sort_values("index")["word"].tolist()
    months = [words.index(m) for m in MONTHS]
    docs = load_docs(res / f"V{cfg['vocab']['size']}" / "docs" / "train")
    rows = [docs.doc(i).tolist() for i in range(docs.n_docs)]
    bad = brute_force(rows, G, S, [months])
    train = np.load(res / base / "train_windows.npy")
    n_removed = sum(bad[w] for w in train)
    assert 0 < n_removed < len(train)
    sets = window_set_suffixes(cfg["windows"]["exclude_cooccurrence"])
    ablated = np.load(res / f"{base}{sets['ablated']}" / "train_windows.npy")
    control = np.load(res / f"{base}{sets['control']}" / "train_windows.npy")
    assert len(ablated) == len(control) == len(train) - n_removed and not any(bad[w] for w in ablated)

    tags = [s.tag for s in ablation_models(cfg)]
    held = len(np.load(res / base / "heldout_windows.npy"))
    table = pd.read_parquet(res / "metrics" / base / "ablation" / "summary.parquet")
    assert len(table) == 3 * (1 + len(tags))  # window sets × (data, models) × Months
    for name, suffix in sets.items():
        kept = len(np.load(res / f"{base}{suffix}" / "train_windows.npy"))
        assert (table.loc[table["window_set"] == name, "windows_kept"] == kept).all()
        for tag in tags:
            run = json.loads((res / "models" / f"{base}{suffix}" / tag / "run.json").read_text())
            if not tag.startswith("pca"):  # trained on the set's own windows, validated on the full set's held-out
                assert run["train_windows"] == kept and run["heldout_windows"] == held
            own = pd.read_parquet(res / "metrics" / f"{base}{suffix}" / "models" / tag / "metrics.parquet")
            ring = own[(own["scope"] == "Months") & (own["metric"] == "order_agreement")]["value"].iloc[0]
            row = table[(table["window_set"] == name) & (table["source"] == tag)].iloc[0]
            assert row["order_agreement"] == pytest.approx(ring, nan_ok=True)
    (record,) = read_claims(res / "metrics" / base / "ablation" / "claims.json")
    assert record.id == "ablation_ring" and record.status in STATUSES and record.status != "error", record
    quoted = (res / "metrics" / base / "ablation" / "ablation_this_run.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in quoted] == ["key", "removed", "rings", "criterion"]
    assert quoted[3].startswith(f"criterion\tCriterion ``ablation_ring``: **{record.status}**")
    assert (res / "figures" / base / "ablation_rings.png").stat().st_size > 5_000


@pytest.mark.workflow
def test_off_plans_only_the_full_set(tmp_path):
    """With exclude_cooccurrence: [] the DAG holds the grid's models once and no ablation path (the window-set
    wildcard matches the empty suffix only)."""
    import re

    from conftest import snakemake

    off = tmp_path / "off.yaml"
    off.write_text("windows:\n  exclude_cooccurrence: []\n")
    proc = snakemake(tmp_path, "-n", configfiles=("presets/smoke.yaml", str(off)))
    cfg = load_config(ROOT / "config.yaml", ROOT / "presets" / "smoke.yaml", off)
    jobs = dict(re.findall(r"(?m)^(\w+)\s+(\d+)$", proc.stdout))
    assert int(jobs["train_model"]) + int(jobs["pca_model"]) == len(model_grid(cfg))
    assert "ablate_windows" not in jobs and "_nocooc" not in proc.stdout and "_ctrl" not in proc.stdout
    assert "results/smoke/models/V400_G5_S1/relu/L16_wd4.0_seed1/" in proc.stdout  # the full set's path


def test_the_switch_reruns_nothing_of_the_full_set():
    """Every stage module but the ablation's own declares config that does not change when the ablation is turned
    on or off (so the full set's jobs keep their params, and nothing of them reruns)."""
    import importlib
    import pkgutil

    import bows.stages

    on = load(windows={"exclude_cooccurrence": ["Months"]})
    off = load()  # config.yaml: off
    assert on["windows"]["exclude_cooccurrence"] and not off["windows"]["exclude_cooccurrence"]
    ablation = {"bows.stages.ablation", "bows.stages.ablation_windows", "bows.stages.fig_ablation"}
    checked = 0
    for info in pkgutil.iter_modules(bows.stages.__path__, "bows.stages."):
        stage = getattr(importlib.import_module(info.name), "STAGE", None)
        if stage is None or info.name in ablation:
            continue
        assert stage.config_slice(on) == stage.config_slice(off), info.name
        checked += 1
    assert checked >= 10
    windows_stage = importlib.import_module("bows.stages.ablation_windows").STAGE
    assert windows_stage.config_slice(on) != windows_stage.config_slice(off)  # the check can tell them apart


def test_figure_draws_every_set_and_source(tmp_path):
    """The figure on planted tables: one panel per window set and source, each titled with the table's A*; without a
    cyclic group it is the "not available" figure."""
    import matplotlib.pyplot as plt
    from bows.figures.ablation import ablation_rings
    from bows.stages.fig_ablation import draw_ablation

    table = planted_table(CALENDAR, SHUFFLED)
    angles = 2 * np.pi * np.arange(12) / 12
    ring = pd.DataFrame(
        {"group": "Months", "word": MONTHS, "pos": range(12), "pc1": np.cos(angles), "pc2": np.sin(angles)}
    )
    groups = ring.rename(columns={"pc1": "npc1", "pc2": "npc2"})
    sets = ["full", "ablated", "control"]
    fig = ablation_rings(
        table, dict.fromkeys(sets, ring), {(s, MODEL.tag): groups for s in sets}, "Months", sets, [MODEL.tag]
    )
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 6 and titles.count("A* = 1.00, 12/12 adjacent") == 4  # full and control, data and model
    plt.close(fig)
    table.to_parquet(tmp_path / "summary.parquet")
    ring.to_parquet(tmp_path / "ring.parquet")
    groups.to_parquet(tmp_path / "groups.parquet")
    for group, name in (("Months", "rings"), (None, "none")):
        out = [str(tmp_path / f"{name}.png")]
        draw_ablation(
            str(tmp_path / "summary.parquet"),
            dict.fromkeys(sets, str(tmp_path / "ring.parquet")),
            {(s, MODEL.tag): str(tmp_path / "groups.parquet") for s in sets},
            group,
            sets,
            [MODEL.tag],
            {"formats": ["png"], "dpi": 50},
            out,
        )
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / "rings.png").stat().st_size > (tmp_path / "none.png").stat().st_size
