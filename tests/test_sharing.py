"""Sharing trained grids (bows.sharing): export, model card, RO-Crate, bows.load from a folder and from a hub cache
laid out as huggingface_hub lays it (offline), and the checks that refuse an export that does not fit a run.

Every check is shown failing on planted input: a changed byte, a missing or unlisted file, another vocabulary
size, other words at two positions, other windows or training settings, a model the export lacks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import bows
import numpy as np
import pandas as pd
import pytest
import yaml
from bows import schema
from bows.errors import ConfigError, ExportError, VocabError
from bows.grid import ModelSpec, model_grid
from bows.io import file_sha256, write_json, write_table
from bows.model import load_weights, save_model
from bows.sharing import crate, export, layout, source
from bows.sharing.card import card_metadata
from bows.vocab import write_vocab
from conftest import ROOT

V = 12
WORDS = [f"w{i:02d}" for i in range(V)]
RESULT_KEYS = ("epochs", "batch_size", "lr")
TRAIN = {"epochs": 2, "batch_size": 128, "lr": 0.0005}


def run_config(**over) -> dict:
    """A validated config whose grid is two relu models and one pca model on V = 12 words, windows G = 5."""
    cfg = {
        "corpus": {"name": "tiny"},
        "vocab": {"size": V},
        "windows": {"group_size": 5},
        "train": {
            **TRAIN,
            "grid": [
                {"latent": [3, 4], "weight_decay": [1.0], "seed": [1]},
                {"latent": [3], "weight_decay": [0.0], "variant": ["pca"]},
            ],
        },
    }
    return schema.validate(schema.deep_merge(cfg, over))


def run_record(spec: ModelSpec, windows: dict) -> dict:
    """A run.json as training writes it (pca: no training settings, no windows, no exposure)."""
    model = {"variant": spec.variant, "latent": spec.latent, "weight_decay": spec.weight_decay, "seed": spec.seed}
    prov = {"created": "2026-01-02T03:04:05+00:00"}
    if spec.variant == "pca":
        return {"model": {**model, "vocab_size": V}, "baseline": "top-L eigenvectors", "history": {}, "exposure": None}
    return {
        "model": {**model, "vocab_size": V, "group_size": windows["group_size"], "stride": 1, "encoding": "binary"},
        "train": {**TRAIN, "device": "cpu", "threads": 1},
        "epochs": 2,
        "steps": 22,
        "history": {"epoch": [1, 2], "train_loss": [0.5, 0.4], "heldout_loss": [0.55, 0.45]},
        "final_train_loss": 0.4,
        "final_heldout_loss": 0.45,
        "exposure": {"decay_exposure": 0.25 * spec.weight_decay, "decay_exposure_paper": 8.8 * spec.weight_decay},
        "provenance": prov,
    }


def weights(spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Weights whose bits a float round trip would disturb: a negative zero, a subnormal, huge and tiny values."""
    rng = np.random.default_rng(spec.latent * 10 + spec.seed)
    W = rng.standard_normal((spec.latent, V)).astype(np.float32)
    W[0, 0], W[0, 1], W[0, 2], W[0, 3] = -0.0, np.float32(1e-40), np.float32(3e38), np.float32(1e-30)
    b = rng.standard_normal(V).astype(np.float32)
    return W, b


def make_export(tmp: Path, config: dict | None = None) -> tuple[Path, Path, dict]:
    """A trained grid's files under tmp/models, exported to tmp/export with export_model + export_grid."""
    config = config or run_config()
    models, root = tmp / "models", tmp / "export"
    for spec in model_grid(config):
        folder = models / spec.tag
        W, b = weights(spec)
        save_model(folder / "model.safetensors", W, b, {"variant": spec.variant})
        write_json(folder / "run.json", run_record(spec, config["windows"]))
        out = layout.model_dir(root, spec)
        export.export_model(
            folder / "model.safetensors",
            folder / "run.json",
            out / layout.WEIGHTS,
            out / layout.MODEL_CONFIG,
            out / layout.RUN,
            spec,
            config["windows"],
        )
    vocab = tmp / "vocab.tsv"
    write_vocab(vocab, WORDS, list(range(100, 100 - V, -1)), 2)
    tables = {}
    for name in layout.TABLES:
        tables[name] = str(write_table(pd.DataFrame({"model": ["relu/L3_wd1.0_seed1"], "value": [1.5]}), tmp / name)[0])
    criteria = tmp / "criteria.json"
    rows = [
        {"id": 1, "name": "loss falls with L", "status": "pass", "value": 0.9, "threshold": 0.5},
        {"id": 2, "name": "month ring", "status": "not_applicable", "value": None, "threshold": 0.3},
    ]
    write_json(criteria, {"criteria": rows, "summary": {"pass": 1, "fail": 0, "not_applicable": 1}})
    windows_json = tmp / "windows.json"
    write_json(windows_json, {"train_windows": 100})
    export.export_grid(
        root,
        model_grid(config),
        vocab,
        tables,
        criteria,
        export.workflow_files(ROOT),
        config,
        {"windows.json": windows_json},
    )
    return root, models, config


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return make_export(tmp_path_factory.mktemp("share"))


# --------------------------------------------------------------------------------------------- export and load


def test_weights_are_bit_identical_through_save_export_load(exported):
    root, models, config = exported
    grid = bows.load(root)
    assert grid.specs == model_grid(config)
    for spec in grid.specs:
        W, b = weights(spec)
        model = grid.model(spec)
        assert model.W.dtype == np.float32 and model.W.tobytes() == W.tobytes() and model.b.tobytes() == b.tobytes()
        # the exported file is the trained file, byte for byte
        assert file_sha256(layout.model_dir(root, spec) / layout.WEIGHTS) == file_sha256(
            models / spec.tag / "model.safetensors"
        )
    assert grid.model(latent=4).spec == ModelSpec("relu", 4, 1.0, 1)
    assert list(grid.vocab["word"]) == WORDS and grid.words == WORDS
    assert grid.table("sweep")["value"].tolist() == [1.5]
    assert grid.criteria["criteria"][0]["status"] == "pass"


def test_legacy_model_file_is_converted_bit_identically(tmp_path):
    import torch

    spec = ModelSpec("relu", 3, 1.0, 1)
    W, b = weights(spec)
    torch.save({"W": torch.from_numpy(W), "b": torch.from_numpy(b)}, tmp_path / "model.pt")  # the legacy format
    write_json(tmp_path / "run.json", run_record(spec, {"group_size": 5}))
    out = tmp_path / "out"
    export.export_model(
        tmp_path / "model.pt", tmp_path / "run.json", out / "w.safetensors", out / "c.json", out / "r.json", spec, {}
    )
    W2, b2 = load_weights(out / "w.safetensors")
    assert W2.tobytes() == W.tobytes() and b2.tobytes() == b.tobytes()


def test_model_config_describes_the_model(exported):
    root, _, config = exported
    cfg = json.loads((layout.model_dir(root, ModelSpec("relu", 4, 1.0, 1)) / layout.MODEL_CONFIG).read_text())
    assert (cfg["variant"], cfg["latent"], cfg["vocab_size"], cfg["group_size"], cfg["stride"]) == ("relu", 4, V, 5, 1)
    assert cfg["tensors"] == {"W": [4, V], "b": [V]} and cfg["train"]["lr"] == TRAIN["lr"]
    assert cfg["results"]["decay_exposure"] == 0.25
    pca = json.loads((layout.model_dir(root, ModelSpec("pca", 3, 0.0, 1)) / layout.MODEL_CONFIG).read_text())
    assert pca["train"] is None and pca["group_size"] == 5  # from the run's windows: pca run.json has none


def test_export_refuses_a_model_in_the_wrong_folder(tmp_path):
    spec = ModelSpec("relu", 3, 1.0, 1)
    W, b = weights(spec)
    save_model(tmp_path / "m.safetensors", W, b, {})
    write_json(tmp_path / "run.json", run_record(spec, {"group_size": 5}))
    with pytest.raises(Exception, match="lies in the folder of relu/L4"):
        export.export_model(
            tmp_path / "m.safetensors", tmp_path / "run.json", tmp_path / "a", tmp_path / "b", tmp_path / "c",
            ModelSpec("relu", 4, 1.0, 1), {},
        )  # fmt: skip


def test_load_names_the_models_when_a_choice_is_ambiguous(exported):
    grid = bows.load(exported[0])
    assert grid.model(latent=3).spec == ModelSpec("relu", 3, 1.0, 1)  # the paper's variant unless named
    with pytest.raises(ExportError, match="2 models .* match latent=3"):
        grid.model(variant=None, latent=3)
    with pytest.raises(ExportError, match="no model"):
        grid.model(latent=99)


def test_load_refuses_what_is_not_an_export(tmp_path):
    with pytest.raises(ExportError, match="no export folder"):
        bows.load(tmp_path / "missing")
    with pytest.raises(ExportError, match="not a bows export"):
        bows.load(tmp_path)


# --------------------------------------------------------------------------------------------- model card


def test_card_header_is_what_a_hub_reads(exported):
    from huggingface_hub import ModelCard

    root, _, config = exported
    card = ModelCard.load(root / layout.CARD)
    data = card.data.to_dict()
    assert data["license"] == "cc-by-sa-4.0" and data["library_name"] == "bows"
    assert "superposition" in data["tags"] and data["datasets"] == []  # bundled text: no hub dataset
    assert "relu/L4_wd1.0_seed1" in card.text and "month ring" in card.text and "bows.load(" in card.text
    assert "wd 1: E = 0.25" in card.text and "E < 1 (weight decay barely acts)" in card.text


def test_card_header_follows_the_config():
    cfg = run_config(
        corpus={"source": "hf", "hf": {"path": "Salesforce/wikitext"}}, export={"license": "mit", "tags": ["x"]}
    )
    meta = card_metadata(cfg)
    assert meta["datasets"] == ["Salesforce/wikitext"] and meta["license"] == "mit" and meta["tags"][-1] == "x"
    assert card_metadata(run_config(export={"datasets": ["a/b"]}))["datasets"] == ["a/b"]


# --------------------------------------------------------------------------------------------- RO-Crate


def test_crate_validates_and_lists_every_file_with_its_checksum(exported):
    from rocrate.rocrate import ROCrate

    root = exported[0]
    assert crate.check_crate(root) == []
    rc = ROCrate(root)
    listed = {e.id: e for e in rc.data_entities if not e.id.endswith("/")}
    files = crate.crate_files(root)
    assert sorted(listed) == files  # every file, nothing more
    for rel in files:
        assert listed[rel]["sha256"] == hashlib.sha256((root / rel).read_bytes()).hexdigest()
    main = rc.mainEntity
    assert main.id == "workflow/Snakefile" and "ComputationalWorkflow" in main.type
    (action,) = rc.get_by_type("CreateAction")
    assert action["instrument"].id == main.id
    assert {e.id for e in action["result"]} >= {"vocab.tsv", "relu/L4_wd1.0_seed1/model.safetensors"}
    assert "config.yaml" in {e.id for e in action["object"]}
    versions = {e["name"]: e["softwareVersion"] for e in rc.get_by_type("SoftwareApplication")}
    assert versions["bows"] == bows.__version__ and "torch" in versions
    conforms = {e.id for e in rc.root_dataset["conformsTo"]}
    assert set(crate.PROFILES) <= conforms


def test_crate_check_finds_changed_missing_and_unlisted_files(tmp_path, exported):
    root = tmp_path / "copy"
    shutil.copytree(exported[0], root)
    weights_file = layout.model_dir(root, ModelSpec("relu", 3, 1.0, 1)) / layout.WEIGHTS
    data = bytearray(weights_file.read_bytes())
    data[-1] ^= 1
    weights_file.write_bytes(bytes(data))
    (root / layout.VOCAB).unlink()
    (root / "notes.txt").write_text("x")
    hidden = root / ".cache" / "huggingface" / "download" / "vocab.tsv.metadata"  # what `hf download --local-dir` adds
    hidden.parent.mkdir(parents=True)
    hidden.write_text("x")
    problems = " | ".join(crate.check_crate(root))
    assert "relu/L3_wd1.0_seed1/model.safetensors: sha256 differs" in problems
    assert "vocab.tsv, which does not exist" in problems
    assert "files not in the crate: ['notes.txt']" in problems  # hidden files are not the export's
    shutil.copy(exported[0] / layout.VOCAB, root / layout.VOCAB)
    with pytest.raises(ExportError, match="does not validate: .*model.safetensors: sha256 differs"):
        bows.load(root, validate=True)
    bows.load(root)  # without validate the byte goes unnoticed: that is what validate is for


# --------------------------------------------------------------------------------------------- fitting a run


def test_check_fits_accepts_the_run_it_came_from(exported, tmp_path):
    root, _, config = exported
    vocab = tmp_path / "vocab.tsv"
    shutil.copy(root / layout.VOCAB, vocab)
    got = source.check_fits(root, model_grid(config), config, RESULT_KEYS, vocab)
    assert sorted(got) == model_grid(config)
    sub = [ModelSpec("relu", 4, 1.0, 1)]  # a smaller grid is fine
    assert list(source.check_fits(root, sub, config, RESULT_KEYS)) == sub


def test_another_vocabulary_size_is_refused_with_the_fix(exported):
    root, _, config = exported
    other = run_config(vocab={"size": 400})
    with pytest.raises(
        VocabError, match=r"another vocabulary: vocab.size = 12 in the export \(all 3 models\), 400 here"
    ):
        source.check_fits(root, model_grid(other), other, RESULT_KEYS)
    other = run_config(vocab={"size": 400, "fraction": 0.5})
    with pytest.raises(
        VocabError, match=r"settings differ from this run's: vocab.fraction: 0.2 in the export, 0.5 here"
    ):
        source.check_fits(root, model_grid(other), other, RESULT_KEYS)


def test_other_words_are_refused_with_the_positions(exported, tmp_path):
    root, _, config = exported
    swapped = list(WORDS)
    swapped[5], swapped[7] = swapped[7], swapped[5]
    vocab = tmp_path / "vocab.tsv"
    write_vocab(vocab, swapped, [1] * V, 2)
    with pytest.raises(VocabError, match=r"2 of 12 positions hold other words \(5: 'w05' there, 'w07' here"):
        source.check_fits(root, model_grid(config), config, RESULT_KEYS, vocab)


def test_other_windows_and_training_settings_are_refused(exported):
    root, _, _ = exported
    other = run_config(windows={"group_size": 20}, train={"lr": 0.001})
    with pytest.raises(ConfigError) as err:
        source.check_fits(root, model_grid(other), other, RESULT_KEYS)
    text = str(err.value)
    assert "windows.group_size = 5 in the export (all 3 models), 20 here" in text
    # a pca model has no training settings
    assert "train.lr = 0.0005 in the export (relu/L3_wd1.0_seed1, relu/L4_wd1.0_seed1), 0.001 here" in text
    assert "fix:" in text


def test_a_model_the_export_lacks_is_named(exported):
    root, _, config = exported
    with pytest.raises(ExportError, match="no model relu/L8_wd1.0_seed1"):
        source.check_fits(root, [ModelSpec("relu", 8, 1.0, 1)], config, RESULT_KEYS)


def test_a_run_cannot_start_from_its_own_export(exported):
    root, _, config = exported
    with pytest.raises(ExportError, match="own export folder"):
        source.start_from({"export": str(root), "revision": None}, [], config, RESULT_KEYS, "none", root)


# --------------------------------------------------------------------------------------------- import


def test_import_places_the_model_with_its_provenance(exported, tmp_path):
    root, _, config = exported
    spec = ModelSpec("relu", 4, 1.0, 1)
    folder = layout.model_dir(root, spec)
    vocab = tmp_path / "vocab.tsv"
    shutil.copy(root / layout.VOCAB, vocab)
    out = tmp_path / "models" / spec.tag
    src = {"export": str(root), "revision": None}
    cfg = {**config, "train": TRAIN}
    args = (folder / layout.MODEL_CONFIG, folder / layout.RUN, root / layout.VOCAB, vocab)
    source.import_model(
        folder / layout.WEIGHTS, *args, out / "model.safetensors", out / "run.json", spec, cfg, RESULT_KEYS, src
    )
    W, b = weights(spec)
    W2, b2 = load_weights(out / "model.safetensors")
    assert W2.tobytes() == W.tobytes() and b2.tobytes() == b.tobytes()
    run = json.loads((out / "run.json").read_text())
    assert run["history"]["heldout_loss"] == [0.55, 0.45]  # the training record, as the export has it
    assert run["imported"]["checked_against_crate"] and run["imported"]["source"] == src
    assert run["imported"]["weights_sha256"] == file_sha256(folder / layout.WEIGHTS)
    assert (out / "model.safetensors.prov.json").is_file()

    damaged = tmp_path / "damaged"
    shutil.copytree(root, damaged)
    target = layout.model_dir(damaged, spec) / layout.WEIGHTS
    target.write_bytes(target.read_bytes()[:-1] + b"\x00")
    dfolder = layout.model_dir(damaged, spec)
    with pytest.raises(ExportError, match="does not match the checksum"):
        source.import_model(
            target, dfolder / layout.MODEL_CONFIG, dfolder / layout.RUN, damaged / layout.VOCAB, vocab,
            tmp_path / "x" / "model.safetensors", tmp_path / "x" / "run.json", spec, cfg, RESULT_KEYS, src,
        )  # fmt: skip
    assert not (tmp_path / "x" / "model.safetensors").exists()


# --------------------------------------------------------------------------------------------- hub cache, offline


def lay_out_hub_cache(export_root: Path, cache: Path, repo_id: str, commit: str = "a" * 40) -> Path:
    """The export as huggingface_hub caches a model repository: blobs named by their sha256, refs/main holding the
    commit, snapshots/<commit>/ of relative symlinks to the blobs."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    for path in sorted(export_root.rglob("*")):
        if not path.is_file():
            continue
        sha = file_sha256(path)
        blob = repo / "blobs" / sha
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, blob)
        link = snapshot / path.relative_to(export_root)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, link.parent), link)
    return snapshot


def test_load_from_the_hub_cache_offline(exported, tmp_path):
    root = exported[0]
    cache = tmp_path / "hub"
    lay_out_hub_cache(root, cache, "someone/bows-tiny")
    W, _ = weights(ModelSpec("relu", 4, 1.0, 1))
    np.save(tmp_path / "expected.npy", W)
    script = f"""
import numpy as np, bows
from bows.errors import ExportError
grid = bows.load("someone/bows-tiny", validate=True)
assert "snapshots" in str(grid.path), grid.path
W = grid.model(latent=4).W
assert W.tobytes() == np.load({str(tmp_path / "expected.npy")!r}).tobytes()
try:
    bows.load("someone/not-cached")
except ExportError as err:
    assert "cache" in str(err) and "fix:" in str(err), err
    print("refused:", str(err).splitlines()[0])
else:
    raise SystemExit("an uncached repository loaded offline")
print("ok", grid)
"""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(cache),
        "HF_HOME": str(tmp_path / "home"),
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens: any request would fail at once
        "PYTHONPATH": str(ROOT / "workflow"),
    }
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok SharedGrid('someone/bows-tiny', 3 models)" in proc.stdout and "refused:" in proc.stdout


def test_repository_ids_and_paths_are_told_apart(tmp_path):
    assert source.REPO_ID.match("owner/name") and source.REPO_ID.match("o-1/n.a_m-e")
    assert not source.REPO_ID.match("a/b/c") and not source.REPO_ID.match("/abs/path") and not source.REPO_ID.match("x")
    with pytest.raises(ExportError, match="no export folder at results/x/export"):
        source.resolve("results/x/export")


def test_exported_config_starts_a_run_without_its_source(exported):
    root = exported[0]
    cfg = yaml.safe_load((root / layout.RUN_CONFIG).read_text())
    assert "source" not in cfg["train"] and cfg["vocab"]["size"] == V and cfg["windows"]["group_size"] == 5
    merged = schema.validate(schema.deep_merge(cfg, {"train": {"source": {"export": str(root)}}}))
    assert model_grid(merged) == bows.load(root).specs


def test_a_run_that_still_needs_training_is_refused(exported):
    root = exported[0]
    other = run_config(train={"snapshots": {"count": 2}}, windows={"exclude_cooccurrence": ["Months"]})
    src = {"export": str(root), "revision": None}
    with pytest.raises(ConfigError, match=r"still asks for training: train.snapshots.count = 2 .*\['Months'\]") as err:
        source.start_from(src, [], other, RESULT_KEYS, "none", root.parent / "elsewhere")
    assert "snapshots: {count: 0}" in str(err.value) and "exclude_cooccurrence: []" in str(err.value)
    assert source.start_from(src, [], run_config(), RESULT_KEYS, "none", root.parent / "elsewhere") == root
