"""Training: optimiser and schedule, seeds, resume after SIGKILL (bit-identical), the grid's jobs."""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from bows.batches import TrainData, batches, epoch_order
from bows.checkpoints import CHECKPOINT
from bows.config import section
from bows.encode import Docs, save_docs
from bows.grid import ModelSpec
from bows.model import load_model, load_weights
from bows.optim import make_optimizer, make_scheduler
from bows.stages.train import memory_estimate_mb
from bows.train import Trainer, train
from bows.train_settings import RESULT_KEYS, RUN_KEYS, TrainSettings, result_params
from bows.windows import Windows, split_windows
from conftest import ROOT

WORKFLOW = ROOT / "workflow"


def zipf_docs(n_docs: int, vocab: int, per_doc: float = 6.0, seed: int = 0) -> Docs:
    """Random documents with Zipfian word frequencies (some documents empty), as CSR."""
    rng = np.random.default_rng(seed)
    p = 1.0 / (np.arange(vocab) + 3.0)
    p /= p.sum()
    lens = rng.poisson(per_doc, size=n_docs)
    lens[rng.random(n_docs) < 0.1] = 0
    docs = [np.unique(rng.choice(vocab, size=k, p=p)) for k in lens]
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=indptr[1:])
    indices = np.concatenate(docs).astype(np.uint16) if indptr[-1] else np.zeros(0, np.uint16)
    return Docs(indptr, indices, vocab)


@pytest.fixture(scope="module")
def small() -> TrainData:
    docs = zipf_docs(400, 60, seed=1)
    win = Windows(docs, group_size=4, stride=1)
    tr, ho = split_windows(len(win), 4, 1, 0.1, 2, 42)
    return TrainData(win, 60, tr, ho)


def settings(**kw) -> TrainSettings:
    base = dict(epochs=3, batch_size=32, lr=5e-3, threads=1, progress=False)
    base.update(kw)
    return TrainSettings.default(**base)


def spec(latent=5, wd=1.0, seed=3, variant="relu") -> ModelSpec:
    return ModelSpec(variant, latent, wd, seed)


def weights_hash(model) -> str:
    W, b = model.weights()
    return hashlib.sha256(W.numpy().tobytes() + b.numpy().tobytes()).hexdigest()


# --------------------------------------------------------------------------------------------- optimisation


def test_adamw_groups_and_decay_bias_flag():
    from bows.model import TiedAutoencoder

    m = TiedAutoencoder(20, 3)
    opt = make_optimizer(m, 5e-4, (0.9, 0.999), 1e-8, 4.0, decay_bias=True)
    assert [g["weight_decay"] for g in opt.param_groups] == [4.0, 4.0]
    assert opt.param_groups[0]["betas"] == (0.9, 0.999) and opt.param_groups[0]["eps"] == 1e-8
    opt = make_optimizer(m, 5e-4, (0.9, 0.999), 1e-8, 4.0, decay_bias=False)
    assert [g["weight_decay"] for g in opt.param_groups] == [4.0, 0.0]
    assert opt.param_groups[1]["params"][0] is m.b


def test_cosine_schedule_per_step_to_zero():
    from bows.model import TiedAutoencoder

    m = TiedAutoencoder(20, 3)
    opt = make_optimizer(m, 1e-3, (0.9, 0.999), 1e-8, 0.0)
    sched = make_scheduler(opt, 10)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [1e-3 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(10)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-6)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_decay_bias_false_keeps_bias_free_of_decay(small):
    """Only the bias's decay differs between the two runs."""
    m1, _ = train(small, spec(4, 50.0, 1), settings(epochs=1, decay_bias=True))
    m2, _ = train(small, spec(4, 50.0, 1), settings(epochs=1, decay_bias=False))
    assert not torch.equal(m1.b, m2.b)


def test_epoch_order_is_a_seeded_permutation():
    a = epoch_order(100, seed=1, epoch=0)
    assert sorted(a) == list(range(100))
    assert np.array_equal(a, epoch_order(100, 1, 0))
    assert not np.array_equal(a, epoch_order(100, 1, 1))
    assert not np.array_equal(a, epoch_order(100, 2, 0))


def test_batches_cover_all_windows_and_drop_empty():
    win = Windows(zipf_docs(300, 60, seed=4), group_size=1)  # one document per window: about 10 % empty
    tr = np.arange(len(win))
    seen = 0
    for offsets, _cols in batches(win, tr, 50):
        assert np.all(np.diff(offsets) > 0)
        seen += len(offsets) - 1
    empty = sum(1 for w in tr if len(win.ids(int(w))) == 0)
    assert empty > 0  # the case has empty windows to drop
    assert seen == len(tr) - empty


def test_loader_threads_deliver_the_same_batches_in_order(small):
    win, tr = small.windows, small.train_idx
    one = list(batches(win, tr, 50, 60))
    many = list(batches(win, tr, 50, 60, workers=3))
    assert len(one) == len(many) == math.ceil(len(tr) / 50)
    for a, b in zip(one, many):
        assert (a is None) == (b is None)
        if a is not None:
            assert torch.equal(a.offsets, b.offsets) and torch.equal(a.cols, b.cols)


# --------------------------------------------------------------------------------------------- training


def test_training_lowers_the_loss_and_reports(small):
    model, summary = train(small, spec(8, 0.0, 1), settings(epochs=4))
    h = summary["history"]
    assert h["epoch"] == [1, 2, 3, 4]
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert h["heldout_loss"][-1] < h["heldout_loss"][0]
    assert summary["steps"] == 4 * math.ceil(len(small.train_idx) / 32) == summary["steps_per_epoch"] * 4
    assert summary["steps_per_second"] == pytest.approx(summary["steps"] / summary["train_seconds"], rel=0.05)
    assert summary["train_seconds"] <= sum(h["seconds"]) + 1e-3  # training time excludes the held-out passes


def test_same_seed_same_weights_other_seed_other_weights(small):
    torch.manual_seed(0)
    np.random.seed(0)
    a, _ = train(small, spec(seed=7), settings())
    torch.manual_seed(99)  # the global RNGs play no part
    np.random.seed(99)
    b, _ = train(small, spec(seed=7), settings())
    c, _ = train(small, spec(seed=8), settings())
    assert weights_hash(a) == weights_hash(b)
    assert weights_hash(a) != weights_hash(c)


def test_in_process_resume_is_bit_identical(small, tmp_path):
    full, _ = train(small, spec(), settings(epochs=4))
    ck = tmp_path / "ck"
    part = Trainer(small, spec(), settings(epochs=4), ckpt_dir=ck)
    part.run(until_epoch=2)  # stopped after epoch 2 (the schedule keeps the length of 4 epochs), as if killed
    assert (ck / CHECKPOINT).is_file() and part.step < part.total_steps
    assert weights_hash(part.model) != weights_hash(full)
    resumed = Trainer(small, spec(), settings(epochs=4), ckpt_dir=ck)
    assert resumed.resume()
    # the optimiser, the schedule and the init generator come back exactly
    saved, back = part.opt.state_dict(), resumed.opt.state_dict()
    assert saved["param_groups"] == back["param_groups"]
    for p in (0, 1):
        assert all(torch.equal(saved["state"][p][k], back["state"][p][k]) for k in saved["state"][p])
    assert resumed.sched.state_dict() == part.sched.state_dict()
    assert torch.equal(resumed.gen.get_state(), part.gen.get_state())
    resumed.run()
    assert resumed.resumed_from == 2
    assert weights_hash(resumed.model) == weights_hash(full)
    assert resumed.history.epoch == [1, 2, 3, 4]


def test_checkpoint_holds_tensors_and_json_only(small, tmp_path):
    from safetensors import safe_open

    ck = tmp_path / "ck"
    t = Trainer(small, spec(), settings(epochs=2), ckpt_dir=ck)
    t.run(until_epoch=1)
    with safe_open(str(ck / CHECKPOINT), framework="pt") as fh:
        names = set(fh.keys())
        meta = json.loads(fh.metadata()["bows"])
    assert {"W", "b", "optimizer.0.exp_avg", "optimizer.0.exp_avg_sq", "optimizer.1.exp_avg"} <= names
    assert meta["epoch"] == 1 and meta["fingerprint"] == t.fingerprint() and meta["history"]["epoch"] == [1]
    W, b = load_weights(ck / CHECKPOINT)  # a checkpoint reads as a model file too
    assert np.array_equal(W, t.model.W.detach().numpy())


def test_loader_threads_do_not_change_the_weights(small):
    one, _ = train(small, spec(), settings(epochs=2, loader_threads=1))
    many, summary = train(small, spec(), settings(epochs=2, loader_threads=3))
    assert summary["loader_threads"] == 3
    assert weights_hash(one) == weights_hash(many)


def test_max_steps_caps_the_run_and_its_schedule(small):
    per_epoch = math.ceil(len(small.train_idx) / 32)
    t = Trainer(small, spec(), settings(epochs=4, max_steps=per_epoch + 2))
    t.run()
    assert t.step == per_epoch + 2 and t.history.steps == [per_epoch, 2] and t.history.epoch == [1, 2]
    assert t.opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # the cosine ends at the cap
    assert result_params({"max_steps": None, "epochs": 4}) == {"epochs": 4}  # null: old params unchanged
    assert result_params({"max_steps": 7, "epochs": 4}) == {"epochs": 4, "max_steps": 7}


def test_run_records_the_device_and_a_resume_elsewhere(small, tmp_path, caplog):
    from bows.tensor_files import read_tensors, write_tensors

    ck = tmp_path / "ck"
    part = Trainer(small, spec(), settings(epochs=4), ckpt_dir=ck)
    part.run(until_epoch=2)
    facts = part.summary()["device_facts"]
    assert facts["type"] == "cpu" and facts["cpu"] and facts["threads"] == torch.get_num_threads()
    assert facts["precision"] == "fp32" and facts["torch"] == str(torch.__version__)
    same = Trainer(small, spec(), settings(epochs=4), ckpt_dir=ck)
    assert same.resume() and same.device_change is None
    tensors, meta = read_tensors(ck / CHECKPOINT, "checkpoint")
    meta["device"] = {**meta["device"], "type": "cuda", "gpu": "NVIDIA H200", "cuda": "13.0"}
    write_tensors(ck / CHECKPOINT, tensors, meta)
    other = Trainer(small, spec(), settings(epochs=4), ckpt_dir=ck)
    other.run()
    assert other.resumed_from == 2
    moved = other.summary()["resumed_on_other_device"]
    assert moved["checkpoint"]["gpu"] == "NVIDIA H200" and moved["now"]["type"] == "cpu"
    assert "not be bit-identical" in caplog.text


def test_foreign_checkpoint_is_ignored(small, tmp_path):
    ck = tmp_path / "ck"
    Trainer(small, spec(), settings(epochs=1), ckpt_dir=ck).run()
    other = Trainer(small, spec(), settings(epochs=2, lr=1e-2), ckpt_dir=ck)
    assert not other.resume()
    assert not Trainer(small, spec(seed=4), settings(epochs=1), ckpt_dir=ck).resume()
    assert Trainer(small, spec(), settings(epochs=1), ckpt_dir=ck).resume()  # its own run resumes
    (ck / CHECKPOINT).write_bytes(b"garbage")
    assert not Trainer(small, spec(), settings(epochs=1), ckpt_dir=ck).resume()


def test_result_params_and_memory_estimate():
    cfg = {"grid": [1], "threads": 4, "device": "cuda", "epochs": 10, "lr": 5e-4, "decay_bias": True}
    assert result_params(cfg) == {"epochs": 10, "lr": 5e-4, "decay_bias": True}
    assert memory_estimate_mb(10_000, 10_000, 512) > memory_estimate_mb(1000, 10_000, 512) > 600


def test_every_train_key_is_either_a_result_or_a_run_setting():
    """A new key of the train section must be classed: it reruns training (RESULT_KEYS) or not (RUN_KEYS)."""
    from dataclasses import fields

    from bows import schema

    job_keys = {f.name for f in fields(TrainSettings)} - {"progress", "threads"}  # threads: the job's own
    assert not set(RESULT_KEYS) & set(RUN_KEYS)
    assert set(RESULT_KEYS) | set(RUN_KEYS) == job_keys
    rule_keys = {"grid", "gpu_model", "runtime", "threads"}  # read by the rule (resources, grid)
    rule_keys |= {"source"}  # read by the rules: shared models imported instead of trained (docs/sharing.md)
    assert set(schema.defaults()["train"]) == job_keys | rule_keys


def test_the_stage_declares_result_keys_as_params_and_run_keys_as_settings():
    from bows.config import load_config
    from bows.stages.train import STAGE

    cfg = load_config(ROOT / "config.yaml", ROOT / "presets" / "smoke.yaml", checked=False)
    assert STAGE.config_slice(cfg)["train"] == result_params(cfg["train"])
    assert set(STAGE.settings_slice(cfg)["train"]) == set(RUN_KEYS)
    assert STAGE.config_slice(cfg)["windows"] == {k: cfg["windows"][k] for k in ("group_size", "stride", "encoding")}


# --------------------------------------------------------------------------------------------- SIGKILL and resume

RUNNER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {workflow!r})
    from bows.batches import load_train_data
    from bows.grid import ModelSpec
    from bows.train import train_model
    from bows.train_settings import TrainSettings
    data = load_train_data({docs!r}, {tr!r}, {ho!r}, {win_cfg!r})
    out = {{"model": {out!r} + "/model.safetensors", "run": {out!r} + "/run.json"}}
    train_model(data, ModelSpec("relu", 48, 1.0, 5), TrainSettings.from_config({cfg!r}, threads=1), out,
                {out!r} + "/ckpt", config={{"train": {cfg!r}}}, code="c0de")
""")


def _runner(tmp: Path, name: str, data: dict) -> list[str]:
    out = tmp / name
    out.mkdir(exist_ok=True)
    code = RUNNER.format(workflow=str(WORKFLOW), out=str(out), **data)
    return [sys.executable, "-c", code]


@pytest.fixture(scope="module")
def disk_data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    docs = zipf_docs(3000, 1500, per_doc=12, seed=2)
    save_docs(tmp / "docs" / "train", docs)
    win = Windows(docs, 5, 1)
    tr, ho = split_windows(len(win), 5, 1, 0.05, 2, 42)
    np.save(tmp / "train_windows.npy", tr)
    np.save(tmp / "heldout_windows.npy", ho)
    cfg = {
        **section("train", {"epochs": 8, "batch_size": 64, "lr": 1e-3, "keep_checkpoints": True, "device": "cpu"}),
        "progress": False,
    }
    return tmp, {
        "docs": str(tmp / "docs" / "train"),
        "tr": str(tmp / "train_windows.npy"),
        "ho": str(tmp / "heldout_windows.npy"),
        "cfg": cfg,
        "win_cfg": section("windows", {"group_size": 5}),
    }


def test_sigkill_then_rerun_is_bit_identical(disk_data):
    tmp, data = disk_data
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    ref = subprocess.run(_runner(tmp, "ref", data), env=env, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr[-2000:]

    cmd = _runner(tmp, "killed", data)
    ckpt = tmp / "killed" / "ckpt" / CHECKPOINT
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "training ended before it could be killed; make the test problem larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp / "killed" / "model.safetensors").exists()
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]

    run = json.loads((tmp / "killed" / "run.json").read_text())
    assert run["resumed_from_epoch"] is not None and 1 <= run["resumed_from_epoch"] < 8
    assert run["history"]["epoch"] == list(range(1, 9))
    assert (tmp / "killed" / "model.safetensors.prov.json").is_file()
    W1, b1, meta1 = load_model(tmp / "ref" / "model.safetensors")
    W2, b2, meta2 = load_model(tmp / "killed" / "model.safetensors")
    assert W1.tobytes() == W2.tobytes() and b1.tobytes() == b2.tobytes()
    assert (tmp / "ref" / "model.safetensors").read_bytes() == (tmp / "killed" / "model.safetensors").read_bytes()
    ref_run = json.loads((tmp / "ref" / "run.json").read_text())
    assert ref_run["history"]["train_loss"] == run["history"]["train_loss"]
    assert ref_run["history"]["heldout_loss"] == run["history"]["heldout_loss"]
    assert meta1 == meta2 and meta1["final_train_loss"] == run["final_train_loss"] and meta1["code"] == "c0de"
    identity = (meta1["V"], meta1["L"], meta1["variant"], meta1["seed"], meta1["weight_decay"])
    assert identity == (1500, 48, "relu", 5, 1.0)
    assert meta1["decay_exposure"] == run["exposure"]["decay_exposure"] and len(meta1["config"]) == 16


# --------------------------------------------------------------------------------------------- the grid


@pytest.mark.workflow
def test_smoke_workflow_trains_its_grid(smoke_run):
    from bows.codehash import stage_hash

    models = sorted((smoke_run / "results" / "smoke" / "models" / "V400_G5_S1").rglob("model.safetensors"))
    trained = [p for p in models if p.parent.parent.name != "pca"]  # pca models are built, not trained
    assert len(trained) == 9 and len(models) == 11
    for path in trained:
        W, b, meta = load_model(path)
        assert W.shape[1] == b.shape[0] == 400 == meta["V"] and meta["L"] == W.shape[0]
        run = json.loads((path.parent / "run.json").read_text())
        assert run["history"]["epoch"] == [1, 2]
        assert all(np.isfinite(run["history"]["train_loss"]))
        assert run["steps_per_second"] == pytest.approx(run["steps"] / run["train_seconds"], rel=0.05)
        assert run["provenance"]["inputs"]["train_windows"]["sha256"]
        assert meta["final_heldout_loss"] == run["final_heldout_loss"] and meta["variant"] == run["model"]["variant"]
        assert meta["code"] == stage_hash("bows.stages.train")
    assert not list((smoke_run / "results" / "smoke" / "checkpoints").rglob(CHECKPOINT))


def _dry_run(workdir: Path, tmp_path: Path, train_overrides: dict) -> str:
    """The jobs ``snakemake -n train`` would run in ``workdir`` with the train section changed."""
    from conftest import snakemake

    override = tmp_path / "override.yaml"
    override.write_text(json.dumps({"train": train_overrides}))
    res = snakemake(workdir, "-n", "train", configfiles=("presets/smoke.yaml", str(override)))
    return res.stdout + res.stderr


@pytest.mark.workflow
def test_run_settings_rerun_nothing_and_result_keys_retrain(smoke_run, tmp_path):
    settings_only = {
        "device": "cpu",
        "threads": 2,
        "checkpoint_every": 2,
        "keep_checkpoints": True,
        "loader_threads": 2,
        "gpu_lease_timeout": 5,
    }
    out = _dry_run(smoke_run, tmp_path, settings_only)
    assert "train_model" not in out and "Nothing to be done" in out, out[-3000:]
    out = _dry_run(smoke_run, tmp_path, {"lr": 0.001})
    assert "train_model" in out, out[-3000:]
