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
from bows.config import section
from bows.encode import Docs, save_docs
from bows.model import load_weights
from bows.train import (
    Trainer,
    TrainSettings,
    batches,
    epoch_order,
    make_optimizer,
    make_scheduler,
    memory_estimate_mb,
    result_params,
    train,
)
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
def small():
    docs = zipf_docs(400, 60, seed=1)
    win = Windows(docs, group_size=4, stride=1)
    tr, ho = split_windows(len(win), 4, 1, 0.1, 2, 42)
    return win, tr, ho


def settings(**kw) -> TrainSettings:
    base = dict(epochs=3, batch_size=32, lr=5e-3, threads=1, progress=False)
    base.update(kw)
    return TrainSettings.default(**base)


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
    win, tr, ho = small
    m1, _ = train(win, 60, tr, ho, 4, 50.0, 1, settings(epochs=1, decay_bias=True))
    m2, _ = train(win, 60, tr, ho, 4, 50.0, 1, settings(epochs=1, decay_bias=False))
    assert not torch.equal(m1.b, m2.b)


def test_epoch_order_is_a_seeded_permutation():
    a = epoch_order(100, seed=1, epoch=0)
    assert sorted(a) == list(range(100))
    assert np.array_equal(a, epoch_order(100, 1, 0))
    assert not np.array_equal(a, epoch_order(100, 1, 1))
    assert not np.array_equal(a, epoch_order(100, 2, 0))


def test_batches_cover_all_windows_and_drop_empty(small):
    win, tr, _ = small
    seen = 0
    for offsets, _cols in batches(win, tr, 50):
        assert np.all(np.diff(offsets) > 0)
        seen += len(offsets) - 1
    empty = sum(1 for w in tr if len(win.ids(int(w))) == 0)
    assert seen == len(tr) - empty


def test_loader_threads_deliver_the_same_batches_in_order(small):
    win, tr, _ = small
    one = list(batches(win, tr, 50, 60))
    many = list(batches(win, tr, 50, 60, workers=3))
    assert len(one) == len(many) == math.ceil(len(tr) / 50)
    for a, b in zip(one, many):
        assert (a is None) == (b is None)
        if a is not None:
            assert torch.equal(a.offsets, b.offsets) and torch.equal(a.cols, b.cols)


# --------------------------------------------------------------------------------------------- training


def test_training_lowers_the_loss_and_reports(small):
    win, tr, ho = small
    model, summary = train(win, 60, tr, ho, 8, 0.0, 1, settings(epochs=4))
    h = summary["history"]
    assert h["epoch"] == [1, 2, 3, 4]
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert h["heldout_loss"][-1] < h["heldout_loss"][0]
    assert summary["steps"] == 4 * math.ceil(len(tr) / 32) == summary["steps_per_epoch"] * 4
    assert summary["steps_per_second"] == pytest.approx(summary["steps"] / summary["train_seconds"], rel=0.05)
    assert summary["train_seconds"] <= sum(h["seconds"]) + 1e-3  # training time excludes the held-out passes


def test_same_seed_same_weights_other_seed_other_weights(small):
    win, tr, ho = small
    torch.manual_seed(0)
    np.random.seed(0)
    a, _ = train(win, 60, tr, ho, 5, 1.0, 7, settings())
    torch.manual_seed(99)  # the global RNGs play no part
    np.random.seed(99)
    b, _ = train(win, 60, tr, ho, 5, 1.0, 7, settings())
    c, _ = train(win, 60, tr, ho, 5, 1.0, 8, settings())
    assert weights_hash(a) == weights_hash(b)
    assert weights_hash(a) != weights_hash(c)


def test_in_process_resume_is_bit_identical(small, tmp_path):
    win, tr, ho = small
    full, _ = train(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=4))
    ck = tmp_path / "ck"
    part = Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=4), ckpt_dir=ck)
    part.s.epochs = 2  # stop after epoch 2 (the schedule keeps the length of 4 epochs), as if killed
    part.run()
    assert (ck / "state.pt").is_file()
    resumed = Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=4), ckpt_dir=ck)
    resumed.run()
    assert resumed.resumed_from == 2
    assert weights_hash(resumed.model) == weights_hash(full)
    assert resumed.history.epoch == [1, 2, 3, 4]


def test_loader_threads_do_not_change_the_weights(small):
    win, tr, ho = small
    one, _ = train(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=2, loader_threads=1))
    many, summary = train(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=2, loader_threads=3))
    assert summary["loader_threads"] == 3
    assert weights_hash(one) == weights_hash(many)


def test_max_steps_caps_the_run_and_its_schedule(small):
    win, tr, ho = small
    per_epoch = math.ceil(len(tr) / 32)
    t = Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=4, max_steps=per_epoch + 2))
    t.run()
    assert t.step == per_epoch + 2 and t.history.steps == [per_epoch, 2] and t.history.epoch == [1, 2]
    assert t.opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # the cosine ends at the cap
    assert result_params({"max_steps": None, "epochs": 4}) == {"epochs": 4}  # null: old params unchanged
    assert result_params({"max_steps": 7, "epochs": 4}) == {"epochs": 4, "max_steps": 7}


def test_run_records_the_device_and_a_resume_elsewhere(small, tmp_path, caplog):
    from bows.model import safe_load, save_state

    win, tr, ho = small
    ck = tmp_path / "ck"
    part = Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=4), ckpt_dir=ck)
    part.s.epochs = 2
    part.run()
    facts = part.summary()["device_facts"]
    assert facts["type"] == "cpu" and facts["cpu"] and facts["threads"] == torch.get_num_threads()
    assert facts["precision"] == "fp32" and facts["torch"] == str(torch.__version__)
    same = Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=4), ckpt_dir=ck)
    assert same.try_resume() and same.device_change is None
    state = safe_load(ck / "state.pt", "checkpoint")
    state["device"] = {**state["device"], "type": "cuda", "gpu": "NVIDIA H200", "cuda": "13.0"}
    save_state(ck / "state.pt", state)
    other = Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=4), ckpt_dir=ck)
    other.run()
    assert other.resumed_from == 2
    moved = other.summary()["resumed_on_other_device"]
    assert moved["checkpoint"]["gpu"] == "NVIDIA H200" and moved["now"]["type"] == "cpu"
    assert "not be bit-identical" in caplog.text


def test_foreign_checkpoint_is_ignored(small, tmp_path):
    win, tr, ho = small
    ck = tmp_path / "ck"
    Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=1), ckpt_dir=ck).run()
    other = Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=2, lr=1e-2), ckpt_dir=ck)
    assert not other.try_resume()
    (ck / "state.pt").write_bytes(b"garbage")
    assert not Trainer(win, 60, tr, ho, 5, 1.0, 3, settings(epochs=1), ckpt_dir=ck).try_resume()


def test_result_params_and_memory_estimate():
    cfg = {"grid": [1], "threads": 4, "device": "cuda", "epochs": 10, "lr": 5e-4, "decay_bias": True}
    assert result_params(cfg) == {"epochs": 10, "lr": 5e-4, "decay_bias": True}
    assert memory_estimate_mb(10_000, 10_000, 512) > memory_estimate_mb(1000, 10_000, 512) > 600


# --------------------------------------------------------------------------------------------- SIGKILL and resume

RUNNER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {workflow!r})
    from bows.train import train_model
    train_model(docs={docs!r}, train_windows={tr!r}, heldout_windows={ho!r}, model_out={out!r} + "/model.pt",
                run_out={out!r} + "/run.json", ckpt_dir={out!r} + "/ckpt", variant="relu", latent=48,
                weight_decay=1.0, seed=5, train_cfg={cfg!r}, windows_cfg={win_cfg!r},
                threads=1)
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
    ckpt = tmp / "killed" / "ckpt" / "state.pt"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "training ended before it could be killed; make the test problem larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp / "killed" / "model.pt").exists()
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]

    run = json.loads((tmp / "killed" / "run.json").read_text())
    assert run["resumed_from_epoch"] is not None and 1 <= run["resumed_from_epoch"] < 8
    assert run["history"]["epoch"] == list(range(1, 9))
    assert (tmp / "killed" / "model.pt.prov.json").is_file()
    W1, b1 = load_weights(tmp / "ref" / "model.pt")
    W2, b2 = load_weights(tmp / "killed" / "model.pt")
    assert W1.tobytes() == W2.tobytes() and b1.tobytes() == b2.tobytes()
    assert (tmp / "ref" / "model.pt").read_bytes() == (tmp / "killed" / "model.pt").read_bytes()
    ref_run = json.loads((tmp / "ref" / "run.json").read_text())
    assert ref_run["history"]["train_loss"] == run["history"]["train_loss"]
    assert ref_run["history"]["heldout_loss"] == run["history"]["heldout_loss"]


# --------------------------------------------------------------------------------------------- the grid


@pytest.mark.workflow
def test_smoke_workflow_trains_its_grid(smoke_run):
    models = sorted((smoke_run / "results" / "smoke" / "models").rglob("model.pt"))
    trained = [p for p in models if p.parent.parent.name != "pca"]  # pca models are built, not trained
    assert len(trained) == 9 and len(models) == 11
    for path in trained:
        W, b = load_weights(path)
        assert W.shape[1] == b.shape[0] == 400
        run = json.loads((path.parent / "run.json").read_text())
        assert run["history"]["epoch"] == [1, 2]
        assert all(np.isfinite(run["history"]["train_loss"]))
        assert run["steps_per_second"] == pytest.approx(run["steps"] / run["train_seconds"], rel=0.05)
        assert run["provenance"]["inputs"]["train_windows"]["sha256"]
    assert not list((smoke_run / "results" / "smoke" / "checkpoints").rglob("state.pt"))
