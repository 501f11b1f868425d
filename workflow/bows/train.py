"""Training the tied autoencoder (paper §4.2), resumable bit for bit.

The loop, as in the paper: for each epoch, the training windows in the epoch's seeded order, in batches of 512
(:mod:`bows.batches`); per batch the loss and gradients of the fast step (:mod:`bows.fast_step`), one AdamW step and
one step of the cosine schedule (:mod:`bows.optim`); after the epoch the held-out loss and a checkpoint
(:mod:`bows.checkpoints`). The seed fixes the init (a private ``torch.Generator``) and the batch order; nothing
reads the global RNGs. The settings are :class:`bows.train_settings.TrainSettings`.

Resume: a killed job started again continues after its last saved epoch and, on the CPU with the same thread
count, ends with bit-identical weights. On CUDA only with ``deterministic: true`` and the same GPU model and
software; never across devices (docs/gpu.md): a checkpoint resumed elsewhere warns and says so in ``run.json``
(``resumed_on_other_device``).

:func:`train` trains one model in memory; :func:`train_model` is the pipeline's job: it leases the device (given back
however the job ends), trains, writes ``model.safetensors`` and ``run.json``, and removes the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from . import devices
from .batches import TrainData, epoch_order, loader_threads
from .checkpoints import Checkpoints
from .errors import ShapeError
from .exposure import exposure_record
from .fast_step import FastStep
from .grid import ModelSpec
from .io import provenance, sidecar_path, write_json
from .model import TiedAutoencoder, save_model
from .observers import Observers
from .optim import make_optimizer, make_scheduler
from .progress import History, Progress, RunningMean
from .train_settings import TrainSettings

__all__ = ["Trainer", "train", "train_model"]

log = logging.getLogger("bows.train")


class Trainer:
    """Trains the model ``spec`` on ``data`` with ``settings`` on ``device``; :meth:`run` resumes from ``ckpt_dir``
    when it holds this run's checkpoint."""

    def __init__(
        self,
        data: TrainData,
        spec: ModelSpec,
        settings: TrainSettings,
        ckpt_dir: str | os.PathLike | None = None,
        device: torch.device | str = "cpu",
        observers: Observers | None = None,
    ):
        _check_shapes(data, spec)
        self.data, self.spec, self.s, self.device = data, spec, settings, torch.device(device)
        devices.set_determinism(settings.deterministic)  # before the first product (cuBLAS reads it then)
        self.steps_per_epoch = math.ceil(len(data.train_idx) / settings.batch_size)
        self.total_steps = min(settings.epochs * self.steps_per_epoch, settings.max_steps or math.inf)
        self.gen = torch.Generator().manual_seed(spec.seed)
        self.model = TiedAutoencoder(
            data.vocab_size, spec.latent, spec.variant, settings.latent_relu, settings.loss, generator=self.gen
        ).to(self.device)
        self.fast_step = FastStep(self.model, devices.configure_precision(settings.precision, self.device))
        s = settings
        self.opt = make_optimizer(self.model, s.lr, s.betas, s.eps, spec.weight_decay, s.decay_bias)
        self.sched = make_scheduler(self.opt, self.total_steps)
        self.observers = observers or Observers()  # snapshots and TensorBoard (bows.observers)
        self.checkpoints = Checkpoints(ckpt_dir, self.fingerprint()) if ckpt_dir else None
        self.loader_workers = loader_threads(s.loader_threads, s.threads, self.device)
        self.device_facts = devices.device_facts(self.device, s.precision, s.deterministic)
        self.epoch = self.step = 0  # epochs and steps completed
        self.history, self.train_seconds = History(), 0.0
        self.resumed_from: int | None = None
        self.device_change: dict[str, Any] | None = None  # set when resuming a checkpoint of another device

    def fingerprint(self) -> str:
        """What the weights depend on: the settings' result keys, the model and the data."""
        spec, data = self.spec, self.data
        encoding = {"encoding": data.encoding} if data.encoding != "binary" else {}
        return self.s.fingerprint(
            V=data.vocab_size,
            latent=spec.latent,
            wd=spec.weight_decay,
            seed=spec.seed,
            variant=spec.variant,
            n_train=len(data.train_idx),
            data=data.data_id,
            **encoding,
            **self.observers.fingerprint(),
        )

    # ----------------------------------------------------------------------------------------- the loop

    def run(self, until_epoch: int | None = None) -> TiedAutoencoder:
        """Train (or finish training) the model, up to ``until_epoch`` epochs if given; returns it."""
        self.resume()
        self.observers.start(self.step, self.total_steps, self.fingerprint(), self.model)
        last = self.s.epochs if until_epoch is None else min(until_epoch, self.s.epochs)
        progress = Progress(
            self.total_steps, self.step, self.spec.tag, self.s.epochs, self.steps_per_epoch, self.s.progress
        )
        try:
            with progress:
                while self.epoch < last and self.step < self.total_steps:
                    self.run_epoch(progress)
        finally:
            self.observers.close()
        return self.model

    def run_epoch(self, progress: Progress | None = None) -> None:
        """One epoch (or what is left of it under ``max_steps``), its held-out loss, history and checkpoint."""
        t0, first = time.perf_counter(), self.step
        train_loss = self.train_epoch(progress)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        train_seconds = time.perf_counter() - t0
        heldout = self.evaluate()
        self.epoch += 1
        self.train_seconds += train_seconds
        self.history.add(self.epoch, train_loss, heldout, round(time.perf_counter() - t0, 3), self.step - first)
        speed = (self.step - first) / max(train_seconds, 1e-9)
        self.observers.after_epoch(
            self.step, {"train_loss": train_loss, "heldout_loss": heldout, "steps_per_second": speed}
        )
        log.info(
            "epoch %d/%d  train %.6g  held-out %s  %.2f steps/s",
            self.epoch,
            self.s.epochs,
            train_loss,
            "n/a" if heldout is None else f"{heldout:.6g}",
            (self.step - first) / max(train_seconds, 1e-9),
        )
        if self.epoch % self.s.checkpoint_every == 0 or self.epoch == self.s.epochs or self.step >= self.total_steps:
            self.save_checkpoint()

    def train_epoch(self, progress: Progress | None = None) -> float:
        """The optimiser steps of one epoch; returns the epoch's mean training loss."""
        order = self.data.train_idx[epoch_order(len(self.data.train_idx), self.spec.seed, self.epoch)]
        order = order[: max(0, self.total_steps - self.step) * self.s.batch_size]  # a max_steps cap
        mean = RunningMean(self.device)
        for k, batch in enumerate(self.data.batches(order, self.s.batch_size, self.loader_workers, self.device)):
            loss = None
            if batch is not None:
                batch = batch.to(self.device)
                loss = self.fast_step.loss_and_grad(batch)  # writes E.grad and b.grad
                self.opt.step()
                mean.add(loss, batch.size)
            self.sched.step()  # the schedule advances per batch, even for a batch of empty windows
            self.step += 1
            self.observers.after_step(self.step, self.model, loss)
            if progress is not None:
                progress.update(self.epoch, k, mean)
        return mean.value()

    def evaluate(self) -> float | None:
        """Mean loss over the held-out windows (all B×V entries of every batch; batches capped by eval_batches)."""
        idx = self.data.heldout_idx
        if self.s.eval_batches:
            idx = idx[: self.s.eval_batches * self.s.batch_size]
        mean = RunningMean(self.device)
        for batch in self.data.batches(idx, self.s.batch_size, self.loader_workers, self.device):
            if batch is not None:
                batch = batch.to(self.device)
                mean.add(self.fast_step.loss(batch), batch.size)
        return mean.value() if mean.rows else None

    # ----------------------------------------------------------------------------------------- checkpoints

    def save_checkpoint(self) -> None:
        if self.checkpoints is None:
            return
        self.checkpoints.save(
            self.model,
            self.opt,
            self.sched,
            self.gen,
            epoch=self.epoch,
            step=self.step,
            history=asdict(self.history),
            train_seconds=self.train_seconds,
            device=self.device_facts,
        )

    def resume(self) -> bool:
        """Continue from this run's checkpoint, if there is one; a foreign or unreadable one is ignored (logged)."""
        saved = self.checkpoints.restore(self.model, self.opt, self.sched, self.gen) if self.checkpoints else None
        if saved is None:
            return False
        self.epoch, self.step = int(saved["epoch"]), int(saved["step"])
        self.history = History(**saved["history"])
        self.train_seconds = float(saved["train_seconds"])
        self.resumed_from = self.epoch
        self.device_change = _device_change(saved.get("device"), self.device_facts)
        log.info("resuming after epoch %d/%d (step %d)", self.epoch, self.s.epochs, self.step)
        return True

    def summary(self) -> dict[str, Any]:
        """What run.json says about the run: steps, losses, timings, exposure, device."""
        h = self.history
        return {
            "epochs": self.s.epochs,
            "steps_per_epoch": self.steps_per_epoch,
            "steps": self.step,
            "train_windows": int(len(self.data.train_idx)),
            "heldout_windows": int(len(self.data.heldout_idx)),
            "history": {k: v for k, v in asdict(h).items() if k != "steps"},
            "final_train_loss": h.train_loss[-1] if h.train_loss else None,
            "final_heldout_loss": h.heldout_loss[-1] if h.heldout_loss else None,
            "train_seconds": round(self.train_seconds, 3),
            "steps_per_second": round(self.step / self.train_seconds, 3) if self.train_seconds > 0 else None,
            "resumed_from_epoch": self.resumed_from,
            "exposure": exposure_record(self.spec.weight_decay, self.s.lr, self.total_steps),
            "device": str(self.device),
            "threads": torch.get_num_threads(),
            "loader_threads": self.loader_workers,
            "device_facts": self.device_facts,
            "resumed_on_other_device": self.device_change,
        }


def _check_shapes(data: TrainData, spec: ModelSpec) -> None:
    if len(data.train_idx) == 0:
        raise ShapeError("no training windows", "lower windows.group_size or use a larger corpus")
    if spec.latent > data.vocab_size:
        raise ShapeError(
            f"latent size {spec.latent} exceeds the vocabulary size {data.vocab_size}", "use a latent size at most V"
        )


def _device_change(saved: Mapping[str, Any] | None, now: dict[str, Any]) -> dict[str, Any] | None:
    """None when the checkpoint was written on this device and software; else both, with a warning: the resumed
    run is then not bit-identical to an uninterrupted one."""
    if devices.device_key(saved) == devices.device_key(now):
        return None
    log.warning(
        "the checkpoint was written on %s; resuming on %s: the weights will not be bit-identical to an "
        "uninterrupted run",
        devices.device_key(saved),
        devices.device_key(now),
    )
    note = "resumed on another device or software: not bit-identical to one run"
    return {"checkpoint": dict(saved or {}), "now": now, "note": note}


# --------------------------------------------------------------------------------------------- entry points


def train(
    data: TrainData,
    spec: ModelSpec,
    settings: TrainSettings | Mapping[str, Any] | None = None,
    ckpt_dir: str | os.PathLike | None = None,
    device: torch.device | str = "cpu",
    observers: Observers | None = None,
) -> tuple[TiedAutoencoder, dict[str, Any]]:
    """Train one model in memory (resuming from ``ckpt_dir`` if given); returns (model, summary). ``observers``:
    snapshots and TensorBoard (:class:`bows.observers.Observers`)."""
    if settings is None:
        settings = TrainSettings.default()
    elif not isinstance(settings, TrainSettings):
        settings = TrainSettings.from_config(settings)
    trainer = Trainer(data, spec, settings, ckpt_dir, device, observers)
    return trainer.run(), trainer.summary()


def train_model(
    data: TrainData,
    spec: ModelSpec,
    settings: TrainSettings,
    out: Mapping[str, str | os.PathLike],
    ckpt_dir: str | os.PathLike | None = None,
    config: Mapping[str, Any] | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """Train one grid model on a leased device; write ``out["model"]`` (model.safetensors, with its provenance
    sidecar) and ``out["run"]`` (run.json). ``config`` (the config sections the result depends on) and ``code``
    (the code's hash) go into the provenance and the model's metadata. Returns the run record. Torch's thread count
    is the caller's (a Snakemake job sets it to the job's threads: :func:`bows.jobs.limit_threads`)."""
    model_dir = Path(out["model"]).parent
    observers = Observers.for_run(asdict(settings), ckpt_dir, model_dir, spec.weight_decay)  # checks first
    units = devices.gpu_units(spec.latent, settings.jobs_per_gpu, settings.whole_gpu_latent)
    lease = devices.select_device(
        settings.device, timeout=settings.gpu_lease_timeout, jobs_per_gpu=settings.jobs_per_gpu, units=units
    )
    with lease:  # released however the job ends
        trainer = Trainer(data, spec, settings, ckpt_dir, lease.device, observers)
        _log_start(trainer, lease)
        t0 = time.perf_counter()
        model = trainer.run()
        record = _run_record(trainer, lease, config, out, wall_seconds=time.perf_counter() - t0)
        observers.publish(model_dir)
        save_model(out["model"], *model.weights(), _model_metadata(record, config, code))
        write_json(sidecar_path(out["model"]), record["provenance"])
        write_json(out["run"], record)
        if trainer.checkpoints is not None and not settings.keep_checkpoints:
            observers.discard()
            trainer.checkpoints.remove()
    return record


def _log_start(trainer: Trainer, lease: devices.Lease) -> None:
    data, spec = trainer.data, trainer.spec
    log.info(
        "training %s on %s: V=%d, %d train / %d held-out windows, %d steps",
        spec.tag,
        lease.describe(),
        data.vocab_size,
        len(data.train_idx),
        len(data.heldout_idx),
        trainer.total_steps,
    )
    exposure = exposure_record(spec.weight_decay, trainer.s.lr, trainer.total_steps)["decay_exposure"]
    if spec.weight_decay > 0 and exposure < 1:
        log.warning(
            "decay exposure E = wd · Σ lr_t = %.3g < 1: the weight decay barely acts (see docs/baselines.md)", exposure
        )


def _run_record(trainer: Trainer, lease: devices.Lease, config: Any, out: Mapping, wall_seconds: float) -> dict:
    """run.json: the model, the settings, the run's summary, the device lease and the provenance."""
    spec, data = trainer.spec, trainer.data
    outputs = {"model": str(out["model"]), "run": str(out["run"])}
    prov = provenance(config or {}, inputs=dict(data.inputs), hash_inputs=True, outputs=outputs)
    windows = {k: getattr(data.windows, k, None) for k in ("group_size", "stride")}
    model = {**asdict(spec), "vocab_size": int(data.vocab_size), **windows, "encoding": data.encoding}
    settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(trainer.s).items()}
    summary = {**trainer.summary(), "wall_seconds": round(wall_seconds, 3)}
    return {"model": model, "train": settings, **summary, "device_lease": lease.record(), "provenance": prov}


def _model_metadata(record: Mapping[str, Any], config: Mapping[str, Any] | None, code: str | None) -> dict:
    """What a model file says about itself (metadata of its safetensors header): equal for equal training."""
    model, settings = record["model"], record["train"]
    config_hash = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return {
        "variant": model["variant"],
        "weight_decay": model["weight_decay"],
        "seed": model["seed"],
        "loss": settings["loss"],
        "latent_relu": settings["latent_relu"],
        "decay_exposure": record["exposure"]["decay_exposure"],
        "final_train_loss": record["final_train_loss"],
        "final_heldout_loss": record["final_heldout_loss"],
        "code": code,
        "config": config_hash if config is not None else None,
    }
