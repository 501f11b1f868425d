"""The analysis rules' entry points (bows.stages) on small synthetic files, and the criteria on known tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from bows.config import load_config, paper_forced_tokens, word_lists
from bows.grid import ModelSpec
from bows.metrics import criteria, peers
from bows.metrics.tables import Rows, save
from conftest import ROOT


def test_singular_values_match_svd():
    rng = np.random.default_rng(0)
    for shape in ((20, 90), (90, 20)):
        W = rng.standard_normal(shape)
        np.testing.assert_allclose(peers.singular_values(W), np.linalg.svd(W, compute_uv=False), atol=1e-9)


def test_save_keeps_dotted_stems_and_writes_the_table_twice_with_its_config(tmp_path):
    df = pd.DataFrame({"word": ["a", "b"], "value": [1.5, np.nan]})
    save(df, tmp_path / "L16_wd1.0_seed1.parquet", {"analysis": {"seed": 3}}, {"model": "m.pt"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "L16_wd1.0_seed1.csv",
        "L16_wd1.0_seed1.parquet",
        "L16_wd1.0_seed1.parquet.prov.json",
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "L16_wd1.0_seed1.parquet"), df)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "L16_wd1.0_seed1.csv"), df)
    side = json.loads((tmp_path / "L16_wd1.0_seed1.parquet.prov.json").read_text())
    assert side["config"] == {"analysis": {"seed": 3}}


WORDS_EXTRA = ["Christmas", "snow", "summer", "December", "Beatles", "Lennon", "orange", "milk", "II", "III"]


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    """A tiny vocabulary, documents and model written with the pipeline's own writers; returns the folder, the
    validated config, the vocabulary's words and the model's (W, b)."""
    from bows import encode, model, vocab
    from bows.io import save_npy

    t = tmp_path_factory.mktemp("run")
    forced = paper_forced_tokens()
    wl = word_lists()
    extra = WORDS_EXTRA + wl["semantic_categories"]["Verbs"][:40] + wl["semantic_categories"]["Music & Audio"][:40]
    words = list(dict.fromkeys(forced + extra))
    V = len(words)
    vocab.write_vocab(t / "vocab.tsv", words, np.arange(V, 0, -1), len(forced))
    rng = np.random.default_rng(0)

    def docs(n):
        ids = [np.unique(rng.choice(V, rng.integers(1, 8))) for _ in range(n)]
        indptr = np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64)
        return encode.Docs(indptr, np.concatenate(ids).astype(np.uint16), V)

    for split, n in (("train", 400), ("validation", 80), ("test", 60)):
        encode.save_docs(t / split, docs(n))
    save_npy(t / "train_windows.npy", np.arange(390, dtype=np.int64))
    g = torch.Generator().manual_seed(0)
    W, b = torch.randn(8, V, generator=g) * 0.3, -0.05 * torch.ones(V)
    model.save_weights(t / "model.safetensors", W, b)
    cfg = load_config(
        ROOT / "config.yaml",
        overrides={
            "vocab": {"size": V},
            "windows": {"group_size": 5},
            "train": {"grid": [{"latent": [8], "weight_decay": [0.0, 1.0], "seed": [1]}]},
            "analysis": {
                "models": {
                    "months": {"latent": 8, "weight_decay": 1.0},
                    "mechanism": {"latent": 8},
                    "umap": [{"latent": 8}],
                },
                "null_permutations": 20,
                "cooc_top_words": 20,
                "decoder_fit_windows": 200,
            },
            "sae": {"enabled": False},
        },
    )
    return t, cfg, words, (W.numpy().astype(np.float64), b.numpy().astype(np.float64))


def _index_of(words: list[str], word: str) -> int:
    """The analyses' lookup, written out: exact match first, else the first word equal to it in lower case."""
    if word in words:
        return words.index(word)
    lower = [w.lower() for w in words]
    return lower.index(word.lower()) if word.lower() in lower else -1


def _value(table: pd.DataFrame, scope: str, metric: str) -> float:
    hit = table[(table["scope"] == scope) & (table["metric"] == metric)]
    assert len(hit) == 1, (scope, metric, len(hit))
    return float(hit["value"].iloc[0])


def _outputs(folder, prefix: str, names) -> dict[str, str]:
    return {name: str(folder / f"{prefix}_{name}.parquet") for name in names}


def test_stages_end_to_end(synthetic_run):
    from bows.stages import data, mechanism, model, months, sweep
    from bows.stages.criteria import run_criteria

    t, cfg, words, (W, b) = synthetic_run
    spec = ModelSpec("relu", 8, 1.0, 1)
    files = {"model": str(t / "model.safetensors"), "vocab": str(t / "vocab.tsv")}
    data_out = _outputs(t, "d", data.STAGE.tables)
    data.run_data(files["vocab"], str(t / "train"), str(t / "train_windows.npy"), data_out, cfg)
    out = _outputs(t, "m", model.STAGE.tables)
    model.run_model(files["model"], files["vocab"], data_out["cooc"], out, spec, cfg)
    m = pd.read_parquet(out["metrics"])
    assert {"d_star", "phi_half", "erank", "knn_purity_p", "mantel_phi_p"} <= set(m["metric"])
    assert set(m["model"]) == {"relu/L8_wd1.0_seed1"} and set(m["wd"]) == {1.0} and set(m["latent"]) == {8}
    assert _value(m, "Roman numerals", "n_found") == 2  # II and III; the other numerals are missing (not strict)
    side = json.loads((t / "m_metrics.parquet.prov.json").read_text())
    assert set(side["config"]) == {"analysis"} and "thresholds" not in side["config"]["analysis"]

    months_out = _outputs(t, "mo", months.STAGE.tables)
    months.run_months(files["model"], files["vocab"], data_out["ring"], months_out, spec, cfg)
    seasonal = pd.read_parquet(months_out["seasonal"])
    assert (seasonal["status"].str.startswith("missing")).sum() == 6  # 3 of 9 seasonal words exist
    assert set(pd.read_parquet(months_out["metrics"])["model"]) == {spec.tag}

    mech_out = _outputs(t, "x", mechanism.STAGE.tables)
    heldout = [str(t / "validation"), str(t / "test")]
    timings = mechanism.run_mechanism(
        *files.values(), heldout, str(t / "train"), str(t / "train_windows.npy"), mech_out, spec, cfg
    )
    mech = pd.read_parquet(mech_out["metrics"])
    assert set(timings) == {"decoder_fit", "heldout_pass", "onehot", "total"}
    written = {r.metric.removeprefix("seconds_"): r.value for r in mech[mech["scope"] == "timing"].itertuples()}
    assert written == timings and all(v >= 0 for v in written.values())  # the timing rows are what it returns
    r2 = pd.read_parquet(mech_out["r2"])
    assert r2["word"].tolist() == words
    np.testing.assert_allclose(r2["delta"], r2["r2_ctx"] - r2["r2_onehot"])
    strata = pd.read_parquet(mech_out["strata"])
    assert strata.groupby("decoder")["n_words"].sum().to_dict() == {"lstsq_h": len(words), "tied_linear": len(words)}
    gap = pd.read_parquet(mech_out["r2_gap"])
    assert gap["rank"].tolist() == list(range(1, len(gap) + 1)) and gap["delta"].is_monotonic_decreasing
    assert mech[mech["scope"] == "mbar"]["status"].iloc[0].startswith("missing")
    # Christmas: one-hot pre-activation, the correlated tower and the month contributions from W and b directly
    i = words.index("Christmas")
    onehot_z = W[:, i] @ W[:, i] + b[i]
    assert _value(mech, "Christmas", "onehot_z") == pytest.approx(onehot_z, rel=1e-6)
    context = [_index_of(words, w) for w in word_lists()["mechanism"]["targets"]["Christmas"]["correlated"]]
    tower_end = onehot_z + sum(W[:, i] @ W[:, c] for c in context if c >= 0)
    assert _value(mech, "Christmas", "tower_correlated_end") == pytest.approx(tower_end, rel=1e-6)
    month_ids = [_index_of(words, w) for w in word_lists()["word_groups"]["Months"]]
    months_sum = sum(W[:, i] @ W[:, c] for c in month_ids if c >= 0)
    assert _value(mech, "Christmas", "months_sum") == pytest.approx(months_sum, rel=1e-6)
    towers = pd.read_parquet(mech_out["towers"])
    assert set(towers.loc[towers["target"] == "Christmas", "tower"]) == {
        "correlated",
        "uncorrelated",
        "correlated_no_target",
        "months",
    }

    # sweep + criteria over the one model
    run = t / "run.json"
    run.write_text(json.dumps({"history": {"epoch": [1, 2], "train_loss": [0.3, 0.2], "heldout_loss": [0.31, 0.21]}}))
    sweep_out = _outputs(t, "s", sweep.STAGE.tables)
    sweep.run_sweep([out["metrics"]], data_out["metrics"], [str(run)], sweep_out, [spec], cfg)
    losses = pd.read_parquet(sweep_out["losses"])
    assert losses[["model", "epoch", "train_loss"]].values.tolist() == [[spec.tag, 1, 0.3], [spec.tag, 2, 0.2]]
    assert pd.read_parquet(sweep_out["loss_fit"])["status"].str.startswith("too few").all()
    with pytest.raises(ValueError, match="one run.json per model"):
        sweep.run_sweep([out["metrics"]], data_out["metrics"], [str(run)], sweep_out, [spec, spec], cfg)
    res = run_criteria(
        str(t / "criteria.json"),
        cfg,
        vocab=files["vocab"],
        data_metrics=data_out["metrics"],
        metrics_all=sweep_out["metrics_all"],
        months_metrics=months_out["metrics"],
        mechanism=mech_out["metrics"],
        r2_gap=mech_out["r2_gap"],
        sweep_summary=sweep_out["sweep_summary"],
        clusters=sweep_out["clusters"],
    )
    text = (t / "criteria.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert [c["id"] for c in data["criteria"]] == list(range(1, 18))
    assert all(c["status"] in ("pass", "fail", "not_applicable") for c in data["criteria"])
    assert "The_present" in data["criteria"][0]["details"]["failed_checks"]  # this vocabulary has no "The"
    # not testable here: no windows.json, 3 of 9 seasonal words, one latent size, one seed, no wd 0 model's
    # metrics, no subspace table; the other 11 are decided
    assert {c["id"] for c in data["criteria"] if c["status"] == "not_applicable"} == {2, 6, 8, 10, 15, 17}
    assert res["summary"]["not_applicable"] == 6 and res["summary"]["error"] == 0
    assert res["summary"]["pass"] + res["summary"]["fail"] == 11
    assert len(data["criteria"]) == 17


def test_stopwatch_laps_are_consecutive_and_total_spans_them():
    from bows.stages.mechanism import Stopwatch

    ticks = iter([10.0, 11.0, 13.5, 14.0, 20.0])
    clock = Stopwatch(clock=lambda: next(ticks))
    clock.lap("load")
    clock.lap("fit")
    clock.lap("pass")
    assert clock.stop() == {"load": 1.0, "fit": 2.5, "pass": 0.5, "total": 10.0}


def test_heldout_batches_cover_every_window_once_or_a_seeded_sample(synthetic_run):
    from bows.encode import load_docs
    from bows.stages.mechanism import heldout_batches
    from bows.windows import Windows

    t, cfg, words, _ = synthetic_run
    docs = [load_docs(t / "validation"), load_docs(t / "test")]
    every = heldout_batches(docs, 5, 1, None, 0, batch_size=16)
    assert len(every) == (80 - 4) + (60 - 4)
    dense = np.concatenate(list(every))
    expected = [Windows(d, 5, 1).dense_array(np.arange(n)) for d, n in zip(docs, (76, 56))]
    np.testing.assert_array_equal(dense, np.concatenate(expected))
    np.testing.assert_array_equal(np.concatenate(list(every)), dense)  # re-iterable
    capped = heldout_batches(docs, 5, 1, 50, 7)
    assert len(capped) == 50 == sum(len(b) for b in capped)
    chosen = [set(idx.tolist()) for _, idx in capped.parts]
    assert all(idx.min() >= 0 for _, idx in capped.parts) and max(chosen[0]) < 76 and max(chosen[1]) < 56
    assert [c.tolist() for _, c in heldout_batches(docs, 5, 1, 50, 7).parts] == [c.tolist() for _, c in capped.parts]
    assert [c.tolist() for _, c in heldout_batches(docs, 5, 1, 50, 8).parts] != [c.tolist() for _, c in capped.parts]


def _cfg():
    return load_config(ROOT / "config.yaml")


def test_criteria_known_answers():
    cfg = _cfg()
    rows = Rows(None)
    for k, v in enumerate([0.5, 0.4, 0.3, 0.2, 0.1, 0.05], start=1):
        rows.add("Months", f"corr_dist_{k}", v)
    rows.add("Months", "corr_dist_spearman", -1.0)
    rows.add("Months", "corr_dist_inversions", 0)
    rows.add("Months", "ring_adjacent_pairs", 12)
    rows.add("Months", "ring_winding", -1)
    rows.add("Months", "ring_pairs_total", 12)
    mech = Rows(ModelSpec("relu", 500, 1.0, 1))
    months = [
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
    contrib = [0.1, -0.05, -0.05, -0.02, -0.03, -0.1, -0.1, -0.1, 0.0, 0.02, 0.05, 0.3]
    for w, c in zip(months, contrib):
        mech.add("Christmas", "month_contribution", c, item=w)
    for t in ("Beatles", "Christmas", "mbar"):
        mech.add_many(
            t,
            {
                "onehot_z": -0.2,
                "r2_ctx": 0.4,
                "frac_pos": 0.8,
                "tower_correlated_end": 0.3,
                "sum_correlated_context": 0.6,
                "sum_uncorrelated_context": 0.01,
                "tower_correlated_no_target_end": -0.1,
            },
        )
    mech.add("Months", "r2_mean", 0.97, item="lstsq_h")
    inp = criteria.Inputs(cfg, data_metrics=rows.frame(), mechanism=mech.frame())
    res = {c.id: c.to_json() for c in criteria.evaluate(inp)}
    assert res[3]["status"] == "pass" and res[4]["status"] == "pass"
    assert res[11]["status"] == "pass" and res[12]["status"] == "pass"
    assert res[13]["status"] == "pass" and res[13]["value"]["largest"] == "December"
    assert res[16]["status"] == "pass"
    assert res[5]["status"] == "not_applicable" and res[15]["status"] == "not_applicable"
    # thresholds come from config and are applied as given
    cfg2 = load_config(ROOT / "config.yaml", overrides={"analysis": {"thresholds": {"months_min_r2": 0.99}}})
    res2 = {c.id: c.to_json() for c in criteria.evaluate(criteria.Inputs(cfg2, mechanism=mech.frame()))}
    assert res2[16]["status"] == "fail" and res2[16]["threshold"] == 0.99


def test_misspelt_threshold_is_a_config_error():
    from bows.errors import ConfigError

    with pytest.raises(ConfigError, match=r"analysis/thresholds.*'months_min_R2' was unexpected"):
        load_config(ROOT / "config.yaml", overrides={"analysis": {"thresholds": {"months_min_R2": 0.99}}})
    with pytest.raises(ConfigError, match=r"analysis/thresholds/months_min_r2"):
        load_config(ROOT / "config.yaml", overrides={"analysis": {"thresholds": {"months_min_r2": "high"}}})
    # one threshold given: the others keep their schema defaults
    cfg = load_config(ROOT / "config.yaml", overrides={"analysis": {"thresholds": {"months_min_r2": 0.99}}})
    assert cfg["analysis"]["thresholds"]["months_min_r2"] == 0.99
    assert cfg["analysis"]["thresholds"]["gap_min_freq"] == 20


def test_unknown_strict_words_fail_before_work(synthetic_run, tmp_path):
    from bows.errors import VocabError
    from bows.stages import data

    t, cfg, _, _ = synthetic_run
    mine = {"words": ["January", "Notaword"], "strict": True, "case_insensitive": False, "cyclic": False}
    analysis = {**cfg["analysis"], "word_groups": {**cfg["analysis"]["word_groups"], "Mine": mine}}
    with pytest.raises(VocabError, match="Notaword"):
        data.run_data(
            str(t / "vocab.tsv"),
            str(t / "train"),
            str(t / "train_windows.npy"),
            _outputs(tmp_path, "d", data.STAGE.tables),
            {**cfg, "analysis": analysis},
        )
    assert not list(tmp_path.iterdir())


def test_sweep_criteria_known_answers():
    cfg = load_config(ROOT / "config.yaml")
    Ls = [25, 50, 100, 200, 500, 1000]
    months_curve = [10.0, 9.0, 4.0, 2.0, 1.5, 1.0]  # below half at L=100, 10% of max at the end
    roman_curve = [8.0, 8.0, 7.0, 6.0, 3.0, 2.0]  # below half at L=500
    rows = []
    for g, curve in (("Months", months_curve), ("Roman numerals", roman_curve)):
        for L, v in zip(Ls, curve):
            rows.append(
                {
                    "group": g,
                    "variant": "relu",
                    "wd": 1.0,
                    "latent": L,
                    "metric": "offdiag_raw",
                    "mean": v,
                    "sd": 0.1 * v,
                    "n_seeds": 2,
                }
            )
    summ = pd.DataFrame(rows)
    res = {c.id: c.to_json() for c in criteria.evaluate(criteria.Inputs(cfg, sweep=summ))}
    assert res[8]["status"] == "pass"
    assert res[8]["value"]["months_first_L_below_half"] == 100 and res[8]["value"]["roman_first_L_below_half"] == 500
    assert res[10]["status"] == "pass" and res[10]["value"] == pytest.approx(0.1)
    swapped = summ.assign(group=summ["group"].map({"Months": "Roman numerals", "Roman numerals": "Months"}))
    res2 = {c.id: c.to_json() for c in criteria.evaluate(criteria.Inputs(cfg, sweep=swapped))}
    assert res2[8]["status"] == "fail"


def test_metric_job_memory_covers_the_rehearsal_peaks():
    """metrics_model asks SLURM for memory_estimate_mb(L, V): at the paper's V = 10,000 the rehearsal measured peaks
    of 774 / 1,696 / 3,955 MB at L = 1,000 / 4,000 / 10,000 (bench/README.md); each request leaves 20 % headroom."""
    from bows.stages.model import memory_estimate_mb

    for latent, peak in ((1000, 774), (4000, 1696), (10000, 3955)):
        assert memory_estimate_mb(latent, 10000) >= 1.2 * peak
    assert memory_estimate_mb(20000, 10000) - memory_estimate_mb(10000, 10000) == memory_estimate_mb(
        10000, 10000
    ) - memory_estimate_mb(0, 10000)  # linear in L·V


# ------------------------------------------------------------------------------------------ the stage contract
STAGE_MODULES = sorted(
    f"bows.stages.{p.stem}"
    for p in (ROOT / "workflow" / "bows" / "stages").glob("*.py")
    if p.stem not in ("__init__", "common")
)


def test_every_stage_module_states_its_contract():
    """Each module of bows.stages names itself, writes something, reads only config sections the schema has, and
    has the one entry point run(job)."""
    import importlib

    from bows.schema import SECTIONS

    checked = 0
    for name in STAGE_MODULES:
        module = importlib.import_module(name)
        if name == "bows.stages.criteria" and not hasattr(module, "STAGE"):
            continue  # still run by its own script
        stage = module.STAGE
        assert stage.module == name and callable(module.run), name
        assert stage.tables or stage.files or stage.figures, f"{name} writes nothing"
        assert len(set(stage.tables + stage.files + stage.figures)) == len(stage.tables + stage.files + stage.figures)
        assert {s.name for s in stage.section_specs} <= set(SECTIONS), name
        checked += 1
    assert checked >= 12


def test_stage_modules_load_no_compiled_or_plotting_library_when_the_rules_read_them():
    """The rule files import every stage module when the workflow is parsed (in every job's process too): their
    top level loads no torch, numba, scipy, UMAP or matplotlib."""
    import subprocess
    import sys

    heavy = ("torch", "numba", "scipy", "umap", "matplotlib", "sklearn")
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in STAGE_MODULES if name != "bows.stages.criteria")
        + f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "workflow", capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]", f"stage modules load {proc.stdout.strip()} at import"


def test_file_outputs_take_one_path_per_declared_name():
    from bows.stage import Stage

    stage = Stage("bows.stages.x", files=("model", "run"))
    assert stage.file_outputs(run="b/run.json", model="b/model.pt") == {"model": "b/model.pt", "run": "b/run.json"}
    with pytest.raises(ValueError, match=r"missing \['run'\]"):
        stage.file_outputs(model="b/model.pt")
    with pytest.raises(ValueError, match=r"unknown \['log'\]"):
        stage.file_outputs(model="b/model.pt", run="b/run.json", log="b/x.log")


class _Named(dict):
    """Snakemake's named lists, as far as a job reads them: keys and attributes."""

    __getattr__ = dict.__getitem__


def test_a_job_sees_its_declared_sections_the_model_of_its_wildcards_and_its_other_params():
    from types import SimpleNamespace

    from bows.stage import Job, Section, Stage

    stage = Stage("bows.stages.x", tables=("t",), sections=(Section("analysis", without=("thresholds",)), "windows"))
    cfg = load_config(ROOT / "config.yaml")
    params = {"stage": "bows.stages.x", "code": "abc", **stage.config_slice(cfg), "ckpt": "results/ckpt/x"}
    wildcards = {"variant": "relu", "latent": "16", "wd": "0.0001", "seed": "2"}
    smk = SimpleNamespace(
        params=_Named(params), wildcards=_Named(wildcards), input=_Named(), output=_Named(t="a/t.parquet"), threads=3
    )
    job = Job.from_snakemake(smk, stage)
    assert set(job.config) == {"analysis", "windows"} and "thresholds" not in job.config["analysis"]
    assert job.config["windows"] == cfg["windows"]
    assert job.model == ModelSpec("relu", 16, 0.0001, 2) and job.model.tag == "relu/L16_wd0.0001_seed2"
    assert job.params == {"ckpt": "results/ckpt/x"} and job.threads == 3
    assert job.tables(stage.tables) == {"t": "a/t.parquet"}
    no_model = SimpleNamespace(**{**vars(smk), "wildcards": _Named(split="train")})
    assert Job.from_snakemake(no_model, stage).model is None
