"""The config schema, its defaults, the semantic checks and the training grid."""

from __future__ import annotations

import subprocess
import sys

import bows.config as bcfg
import pytest
from bows.errors import ConfigError, ShapeError
from conftest import ROOT


def load(*presets, **overrides):
    return bcfg.load_config(ROOT / "config.yaml", *[ROOT / p for p in presets], overrides=overrides or None)


def test_defaults_fill_every_section():
    cfg = load()
    assert set(cfg) == {
        "corpus",
        "vocab",
        "windows",
        "train",
        "analysis",
        "synthetic",
        "value_coding",
        "sae",
        "figures",
        "dynamics",
        "explorer",
        "export",
        "references",
    }
    # a key the default config.yaml leaves out takes the schema default
    assert cfg["train"]["betas"] == [0.9, 0.999]
    assert cfg["windows"]["stride"] == 1
    assert cfg["value_coding"]["city"]["embed"] == 50 and cfg["value_coding"]["modular"]["betas"] == [0.9, 0.98]


def test_value_coding_train_fraction_must_leave_pairs_on_both_sides():
    bad = {"modular": {"modulus": 3, "train_fraction": 0.01}}
    with pytest.raises(ConfigError, match="train_fraction"):
        load(value_coding={"enabled": True, **bad})
    assert not load(value_coding=bad)["value_coding"]["enabled"]  # off (config.yaml): nothing of it runs or is checked


@pytest.mark.parametrize("preset,n_models", [((), 15), (("presets/smoke.yaml",), 11), (("presets/paper.yaml",), 54)])
def test_grid_sizes(preset, n_models):
    assert len(bcfg.model_grid(load(*preset))) == n_models


def test_paper_grid_is_the_papers():
    grid = bcfg.model_grid(load("presets/paper.yaml"))
    sweep = {(s.latent, s.seed) for s in grid if s.weight_decay == 1.0}
    assert len(sweep) == 48 and {s for _, s in sweep} == {1, 2, 3}
    assert {s.latent for s in grid if s.weight_decay == 0.0} == {200, 400, 600, 800}
    assert {s.latent for s in grid if s.weight_decay == 4.0} == {800, 1000}
    assert all(s.variant == "relu" for s in grid)


def test_union_of_blocks_has_no_duplicates():
    cfg = load(
        train={"grid": [{"latent": [8, 16], "weight_decay": [1.0]}, {"latent": [16], "weight_decay": [1]}]},
        analysis={
            "models": {
                "months": {"latent": 16, "weight_decay": 1.0},
                "mechanism": {"latent": 16},
                "umap": [{"latent": 8}],
            }
        },
        sae={"models": [{"latent": 16}]},
    )
    assert [s.tag for s in bcfg.model_grid(cfg)] == ["relu/L8_wd1.0_seed1", "relu/L16_wd1.0_seed1"]


@pytest.mark.parametrize(
    "overrides,match",
    [
        ({"vocab": {"sizee": 3}}, "'sizee' was unexpected"),
        ({"bogus": {}}, "'bogus' was unexpected"),
        ({"vocab": {"size": "big"}}, "vocab/size"),
        ({"windows": {"stride": 0}}, "windows/stride"),
        ({"train": {"grid": []}}, "train/grid"),
        ({"train": {"epochs": -1}}, "train/epochs"),
        ({"synthetic": {"seeds": [42, 42]}}, "synthetic/seeds"),
        ({"synthetic": {"latent": []}}, "synthetic/latent"),
    ],
)
def test_schema_errors_name_the_key(overrides, match):
    with pytest.raises(ConfigError, match=match) as err:
        load(**overrides)
    assert "fix:" in str(err.value)


def test_latent_larger_than_vocab_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"exceed the vocabulary size V=5000"):
        load(train={"grid": [{"latent": [6000]}]})


def test_analysis_model_must_be_trained():
    with pytest.raises(ConfigError, match="analysis.models.months names relu/L999_wd4.0_seed1"):
        load(analysis={"models": {"months": {"latent": 999, "weight_decay": 4.0}}})


def test_unknown_builtin_group_needs_words():
    with pytest.raises(ConfigError, match="has no built-in list"):
        load(analysis={"word_groups": {"Colours": {"words": "paper"}}})


def test_paper_forced_tokens_match_the_official_order():
    tokens = bcfg.paper_forced_tokens()
    assert len(tokens) == 39
    assert tokens[:4] == ["Amphibian", "April", "August", "Bird"]
    assert tokens[-1] == "Wednesday" and tokens == sorted(tokens)


def test_stopwords_bundled_list():
    sw = bcfg.stopwords("nltk_english")
    assert len(sw) == 179 and "the" in sw and "The" not in sw
    assert bcfg.stopwords("none") == frozenset()
    with pytest.raises(ConfigError, match="does not exist"):
        bcfg.stopwords("/nonexistent/stop.txt")


def test_fmt_wd_matches_python_float_str():
    assert [bcfg.fmt_wd(x) for x in (1, 4.0, 0, 0.0001)] == ["1.0", "4.0", "0.0", "0.0001"]


def test_merge_order_does_not_change_the_config_text():
    """Rule params are compared as text: the same settings merged in another order must give the same config."""
    a = bcfg.load_config(ROOT / "config.yaml", ROOT / "presets/smoke.yaml")
    b = bcfg.load_config(ROOT / "config.yaml", ROOT / "config.yaml", ROOT / "presets/smoke.yaml")
    assert repr(a) == repr(b)
    assert list(a["corpus"]) == sorted(a["corpus"]) and list(a) == sorted(a)


def test_library_validates_without_snakemake():
    code = (
        "import sys, bows.config as c; cfg = c.load_config('config.yaml'); "
        "assert cfg['analysis']['thresholds']['months_min_r2'] == 0.95; "
        "assert not [m for m in sys.modules if m.split('.')[0].startswith('snakemake')], 'snakemake imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_pca_blocks_must_not_decay():
    grid = [
        {"latent": [25, 50, 100, 200, 400], "weight_decay": [1.0, 0.0, 4.0]},
        {"latent": [50], "weight_decay": [1.0], "variant": ["pca"]},
    ]
    with pytest.raises(ConfigError, match="pca baseline is not trained"):
        load(train={"grid": grid})


def test_counts_encoding_needs_the_mse_loss():
    with pytest.raises(ConfigError, match="counts needs train.loss: mse"):
        load(windows={"encoding": "counts"}, train={"loss": "bce"})
    assert load(windows={"encoding": "counts"})["windows"]["encoding"] == "counts"


def test_subspace_k_is_the_largest_latent_capped():
    assert bcfg.subspace_k(load()) == 400
    assert bcfg.subspace_k(load("presets/paper.yaml")) == 1000  # analysis.subspace_max_latent
