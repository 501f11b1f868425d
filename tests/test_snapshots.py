"""Snapshots over training and the TensorBoard log: which steps, that they leave training bit-identical, that the
first is the initialisation and the last the final model, resume, and the event files' scalars."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import torch
from bows.batches import TrainData
from bows.config import section
from bows.errors import ConfigError
from bows.grid import ModelSpec
from bows.model import TiedAutoencoder, load_model, load_weights
from bows.observers import Observers
from bows.snapshots import SnapshotSettings, read_index, snapshot_files, snapshot_folder, snapshot_steps
from bows.train import Trainer, train
from bows.train_settings import TrainSettings
from bows.windows import Windows, split_windows
from test_train import zipf_docs

V, L, WD, SEED = 60, 5, 1.0, 3
SPEC = ModelSpec("relu", L, WD, SEED)


@pytest.fixture(scope="module")
def small() -> TrainData:
    docs = zipf_docs(400, V, seed=1)
    win = Windows(docs, group_size=4, stride=1)
    tr, ho = split_windows(len(win), 4, 1, 0.1, 2, 42)
    return TrainData(win, V, tr, ho)


def settings(**kw) -> TrainSettings:
    return TrainSettings.default(**{"epochs": 4, "batch_size": 32, "lr": 5e-3, "threads": 1, "progress": False, **kw})


def train_cfg(count: int = 6, spacing: str = "log", tensorboard: bool = False) -> dict:
    return section("train", {"lr": 5e-3, "snapshots": {"count": count, "spacing": spacing}, "tensorboard": tensorboard})


def weights_hash(model) -> str:
    W, b = model.weights()
    return hashlib.sha256(W.numpy().tobytes() + b.numpy().tobytes()).hexdigest()


# --------------------------------------------------------------------------------------------- which steps


def test_snapshot_steps_known_answers():
    # log: 0, then geomspace(1, 100, 4) = 1, 4.64, 21.5, 100
    assert snapshot_steps(100, 5, "log") == [0, 1, 5, 22, 100]
    assert snapshot_steps(100, 5, "linear") == [0, 25, 50, 75, 100]
    assert snapshot_steps(3, 12, "log") == [0, 1, 2, 3]  # fewer steps than snapshots: every step
    assert snapshot_steps(100, 0, "log") == []
    crowded = snapshot_steps(12, 12, "log")  # rounding collides at the start: pushed apart, still ends at 12
    assert len(crowded) == 12 and crowded[0] == 0 and crowded[-1] == 12 and np.all(np.diff(crowded) > 0)
    default = snapshot_steps(5084, 12, "log")  # the default run's 5,084 steps
    assert default == [0, 1, 2, 6, 13, 30, 71, 167, 393, 922, 2166, 5084]  # 5084^(k/10), rounded
    assert np.allclose(np.diff(np.log(default[4:])), math.log(5084) / 10, atol=0.02)  # geometric once rounding fades


def test_snapshot_settings_refuse_a_single_snapshot_and_name_the_folder(tmp_path):
    with pytest.raises(ConfigError, match="at least 2"):
        SnapshotSettings.from_config({"snapshots": {"count": 1, "spacing": "log"}})
    with pytest.raises(Exception, match="snapshots"):
        section("train", {"snapshots": {"count": 1}})  # the schema refuses it too
    assert snapshot_files(tmp_path, train_cfg(count=0)) == {}
    files = snapshot_files(tmp_path / "m", train_cfg(count=3, spacing="linear"))
    assert files == {
        "snapshot_index": str(tmp_path / "m/snapshots/linear3/index.json"),
        "snapshot_00": str(tmp_path / "m/snapshots/linear3/00.safetensors"),
        "snapshot_01": str(tmp_path / "m/snapshots/linear3/01.safetensors"),
        "snapshot_02": str(tmp_path / "m/snapshots/linear3/02.safetensors"),
    }


# --------------------------------------------------------------------------------------------- training unchanged


def _run_with_snapshots(small, tmp_path, name, **cfg):
    ck, out = tmp_path / name / "ckpt", tmp_path / name / "model"
    observers = Observers.for_run(train_cfg(**cfg), ck, out, WD)
    trainer = Trainer(small, SPEC, settings(), ckpt_dir=ck, observers=observers)
    trainer.run()
    folder = observers.publish(out)
    return trainer, folder


def test_snapshots_and_tensorboard_leave_training_bit_identical(small, tmp_path):
    pytest.importorskip("tensorboard")  # the [tensorboard] extra (part of [test])
    plain, summary = train(small, SPEC, settings())
    watched, folder = _run_with_snapshots(small, tmp_path, "watched", count=8, tensorboard=True)
    assert len(read_index(folder)["steps"]) == 8
    assert weights_hash(watched.model) == weights_hash(plain)
    assert watched.history.train_loss == summary["history"]["train_loss"]
    assert watched.history.heldout_loss == summary["history"]["heldout_loss"]


def test_first_snapshot_is_the_init_and_last_the_final_model(small, tmp_path):
    trainer, folder = _run_with_snapshots(small, tmp_path, "ends", count=6, spacing="log")
    index = read_index(folder)
    assert index["steps"] == snapshot_steps(trainer.total_steps, 6, "log") and index["steps"][-1] == trainer.step
    init = TiedAutoencoder(V, L, generator=torch.Generator().manual_seed(SEED))  # the init, drawn independently
    W0, b0 = load_weights(folder / index["files"][0])
    assert np.array_equal(W0, init.W.detach().numpy()) and not b0.any()
    W_last, b_last, meta = load_model(folder / index["files"][-1])
    W, b = trainer.model.weights()
    assert np.array_equal(W_last, W.numpy()) and np.array_equal(b_last, b.numpy())
    assert meta["step"] == trainer.step and meta["snapshot"] == 5 and meta["total_steps"] == trainer.total_steps
    middle = [load_weights(folder / f)[0] for f in index["files"][1:-1]]
    assert all(not np.array_equal(m, W0) and not np.array_equal(m, W_last) for m in middle)
    assert folder == snapshot_folder(tmp_path / "ends" / "model", SnapshotSettings(6, "log"))


class KilledAt(Observers):
    """The run's observers, and a kill (an exception) right after step ``at``."""

    def __init__(self, inner: Observers, at: int):
        super().__init__(inner.snapshots, inner.scalars)
        self.kill_at = at

    def after_step(self, step, model, loss):
        super().after_step(step, model, loss)
        if step == self.kill_at:
            raise KeyboardInterrupt("killed")


def test_resume_keeps_earlier_snapshots_and_rewrites_the_rest_identically(small, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    reference, ref_folder = _run_with_snapshots(small, tmp_path, "ref", count=12, spacing="linear", tensorboard=True)
    per_epoch = reference.steps_per_epoch
    steps = read_index(ref_folder)["steps"]
    kill = 2 * per_epoch + per_epoch // 2  # in epoch 3; the last checkpoint is the one of epoch 2
    ck, out = tmp_path / "killed" / "ckpt", tmp_path / "killed" / "model"
    cfg = train_cfg(count=12, spacing="linear", tensorboard=True)
    watch = KilledAt(Observers.for_run(cfg, ck, out, WD), kill)
    killed = Trainer(small, SPEC, settings(), ckpt_dir=ck, observers=watch)
    with pytest.raises(KeyboardInterrupt):
        killed.run()
    staged = {s: (ck / "snapshots" / f"{k:02d}.safetensors") for k, s in enumerate(steps) if s <= kill}
    before = {s: p.stat().st_mtime_ns for s, p in staged.items()}
    assert any(2 * per_epoch < s <= kill for s in staged), "no snapshot after the last checkpoint: change kill"

    observers = Observers.for_run(cfg, ck, out, WD)
    resumed = Trainer(small, SPEC, settings(), ckpt_dir=ck, observers=observers)
    resumed.run()
    assert resumed.resumed_from == 2
    folder = observers.publish(out)
    for s, path in staged.items():
        kept = path.stat().st_mtime_ns == before[s]
        assert kept == (s <= 2 * per_epoch), f"step {s}: kept={kept}"  # rewritten only after the checkpoint
    for k in range(len(steps)):
        name = f"{k:02d}.safetensors"
        assert (folder / name).read_bytes() == (ref_folder / name).read_bytes()

    def scalars(model_dir, tag):
        acc = EventAccumulator(str(model_dir / "tensorboard"))
        acc.Reload()
        return [(e.step, e.value) for e in acc.Scalars(tag)]

    ref_loss, loss = scalars(tmp_path / "ref" / "model", "step/loss"), scalars(out, "step/loss")
    assert [s for s, _ in loss] == [s for s, _ in ref_loss]  # the killed run's events after epoch 2 are purged
    assert np.allclose([v for _, v in loss], [v for _, v in ref_loss], rtol=0, atol=0)


def test_checkpoint_without_snapshots_is_not_resumed_into_a_run_with_them(small, tmp_path):
    ck = tmp_path / "ck"
    Trainer(small, SPEC, settings(), ckpt_dir=ck).run(until_epoch=2)
    observers = Observers.for_run(train_cfg(count=4), ck, tmp_path / "model", WD)
    again = Trainer(small, SPEC, settings(), ckpt_dir=ck, observers=observers)
    assert not again.resume()  # its snapshots of steps 0 … epoch 2 would be missing
    plain = Trainer(small, SPEC, settings(), ckpt_dir=ck)
    assert plain.resume()  # without snapshots the same checkpoint resumes as before


# --------------------------------------------------------------------------------------------- TensorBoard


def test_tensorboard_scalars_follow_the_run(small, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trainer, _ = _run_with_snapshots(small, tmp_path, "tb", count=0, tensorboard=True)
    acc = EventAccumulator(str(tmp_path / "tb" / "model" / "tensorboard"))
    acc.Reload()
    T, lr = trainer.total_steps, 5e-3
    lrs = acc.Scalars("step/lr")
    expected = [lr * (1 + math.cos(math.pi * (e.step - 1) / T)) / 2 for e in lrs]  # the lr step s used
    assert np.allclose([e.value for e in lrs], expected, rtol=1e-6)
    assert [e.step for e in lrs] == list(range(1, T + 1))  # no empty batches in this data
    exposure = acc.Scalars("step/decay_exposure")
    assert exposure[-1].value == pytest.approx(WD * sum(expected), rel=1e-6)
    epoch_loss = acc.Scalars("epoch/train_loss")
    assert [e.step for e in epoch_loss] == [trainer.steps_per_epoch * k for k in (1, 2, 3, 4)]
    assert np.allclose([e.value for e in epoch_loss], trainer.history.train_loss, rtol=1e-6)
    held = acc.Scalars("epoch/heldout_loss")
    assert np.allclose([e.value for e in held], trainer.history.heldout_loss, rtol=1e-6)
    step_loss = np.array([e.value for e in acc.Scalars("step/loss")])
    first_epoch = step_loss[: trainer.steps_per_epoch]  # batches of 32 but the last: their mean is near the epoch's
    assert first_epoch.mean() == pytest.approx(trainer.history.train_loss[0], rel=0.05)
