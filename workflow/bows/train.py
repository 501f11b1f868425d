"""Training the tied autoencoder (paper §4.2), resumable bit for bit.

Optimisation, as in the paper: AdamW (lr 5e-4, betas (0.9, 0.999), eps 1e-8, weight decay wd on W and, unless
``decay_bias: false``, on b), a cosine schedule from lr to 0 over epochs × batches-per-epoch, stepped after every
batch, batches of 512 windows, 10 epochs. Empty windows are dropped from a batch (as the official collate does), so
a batch can have fewer rows.

Randomness: the seed fixes the init (a private ``torch.Generator``) and the batch order (epoch e uses the
permutation of ``numpy.random.default_rng([seed, e])``). Nothing reads the global RNGs, so runs do not depend on
what else ran in the process.

Resume: after every ``checkpoint_every`` epochs, ``{ckpt_dir}/state.pt`` is written atomically with the parameters,
the optimiser and scheduler states, the RNG states, the epoch and the loss history (tensors and plain data only:
it loads with ``weights_only=True``). A killed job that is started again continues from the last saved epoch and, on
CPU with the same thread count, ends with bit-identical weights. The checkpoint is deleted once ``model.pt`` and
``run.json`` are written (``keep_checkpoints: true`` keeps it).

Devices: ``run.json`` and every checkpoint record the device and software (:func:`bows.devices.device_facts`); a
checkpoint resumed on another device warns and says so in ``run.json`` (``resumed_on_other_device``). Bit-identical
weights: on the CPU always (same thread count); on CUDA only with ``deterministic: true`` and the same GPU model and
software; never across devices (docs/gpu.md). Batches are built by :func:`loader_threads` threads ahead of the step
and, on CUDA, copied to the GPU by those threads; the step does not wait on the host (no ``.item()`` per step).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from . import devices, kernels
from .errors import CheckpointError, ConfigError, ShapeError
from .exposure import exposure_record
from .io import provenance, remove_stale_temps, sidecar_path, write_json
from .model import DenseBatch, TiedAutoencoder, make_batch, safe_load, save_state, save_weights
from .observers import Observers
from .schema import defaults

__all__ = [
    "TrainSettings",
    "RESULT_KEYS",
    "result_params",
    "memory_estimate_mb",
    "make_optimizer",
    "make_scheduler",
    "epoch_order",
    "build_batch",
    "batches",
    "Trainer",
    "train",
    "train_model",
]

log = logging.getLogger("bows.train")

#: Keys of the ``train`` config section that change a trained model (rule params: a change retrains). The grid,
#: threads, device, GPU model and checkpoint cadence do not change what is learned.
RESULT_KEYS = (
    "epochs",
    "batch_size",
    "lr",
    "betas",
    "eps",
    "decay_bias",
    "loss",
    "latent_relu",
    "precision",
    "eval_batches",
    "max_steps",
)

#: Result keys left out of the rule params and fingerprints while null, so that adding them retrains nothing.
_OMIT_WHEN_NULL = ("max_steps",)

CHECKPOINT = "state.pt"
CHECKPOINT_FORMAT = 1


def result_params(train_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the ``train`` section a trained model depends on (see :data:`RESULT_KEYS`)."""
    return {
        k: train_cfg[k] for k in RESULT_KEYS if k in train_cfg and not (k in _OMIT_WHEN_NULL and train_cfg[k] is None)
    }


def memory_estimate_mb(latent: int, vocab_size: int, batch_size: int) -> int:
    """Peak memory of one job in MB: 28·L·V bytes (E, its gradient, two AdamW moments, and on resume the loaded
    copies of E and the moments), 16·B·V bytes of batch activations, and 600 MB for Python, torch and the data."""
    return int(math.ceil((28 * latent * vocab_size + 16 * batch_size * vocab_size) / 1e6)) + 600


@dataclass
class TrainSettings:
    """The training settings of the ``train`` config section. Its defaults (the paper's) live in the config schema
    only: :meth:`from_config` reads a validated section, :meth:`default` the schema's defaults."""

    epochs: int
    batch_size: int
    lr: float
    betas: tuple[float, float]
    eps: float
    decay_bias: bool
    loss: str
    latent_relu: bool
    device: str
    precision: str
    threads: int
    checkpoint_every: int
    eval_batches: int | None
    keep_checkpoints: bool
    gpu_lease_timeout: float
    max_steps: int | None  # rehearsals: stop after this many steps (the cosine schedule spans them)
    deterministic: bool
    loader_threads: int | None
    jobs_per_gpu: int
    whole_gpu_latent: int
    progress: bool | None = None  # not a config key; None: bars only when stderr is a terminal

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> TrainSettings:
        """The settings of a validated ``train`` section (every key present; ``progress`` optional)."""
        missing = [f.name for f in fields(cls) if f.name != "progress" and f.name not in cfg]
        if missing:
            raise ConfigError(
                f"the train section lacks {missing}",
                "pass a validated config (bows.config.load_config or validate), or use TrainSettings.default(...)",
            )
        kw = {f.name: cfg[f.name] for f in fields(cls) if f.name in cfg}
        kw["betas"] = tuple(float(x) for x in kw["betas"])
        return cls(**kw)

    @classmethod
    def default(cls, **overrides: Any) -> TrainSettings:
        """The schema's ``train`` defaults with ``overrides`` (field names), for tests and library callers."""
        return replace(cls.from_config(defaults()["train"]), **overrides)

    def fingerprint(self, **extra: Any) -> str:
        """Hash of everything that changes the trained weights (a checkpoint resumes only a run with the same)."""
        d = result_params(asdict(self))
        d["betas"] = list(d["betas"])
        d.update(extra)
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


class WindowSource(Protocol):
    def batch_csr(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


# --------------------------------------------------------------------------------------------- optimisation


def make_optimizer(
    model: TiedAutoencoder, lr: float, betas: Sequence[float], eps: float, weight_decay: float, decay_bias: bool = True
) -> torch.optim.AdamW:
    """AdamW: θ ← θ − lr_t (m̂/(√v̂ + eps) + wd θ), with wd on W (and on b when ``decay_bias``)."""
    groups = [
        {"params": [model.E], "weight_decay": float(weight_decay)},
        {"params": [model.b], "weight_decay": float(weight_decay) if decay_bias else 0.0},
    ]
    fused = model.E.device.type in ("cpu", "cuda")
    return torch.optim.AdamW(groups, lr=float(lr), betas=tuple(float(b) for b in betas), eps=float(eps), fused=fused)


def make_scheduler(opt: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.CosineAnnealingLR:
    """lr_t = lr · (1 + cos(π t / T)) / 2, T = epochs × batches per epoch, reaching 0 at the last step."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, int(total_steps)), eta_min=0.0)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of the ``n`` training windows in ``epoch``: a permutation fixed by (seed, epoch)."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def _drop_empty(offsets: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts = np.diff(offsets)
    if counts.all():
        return offsets, cols
    kept = counts[counts > 0]
    out = np.zeros(kept.size + 1, dtype=np.int64)
    np.cumsum(kept, out=out[1:])
    return out, cols


def build_batch(windows: WindowSource, idx: np.ndarray, vocab_size: int | None = None, encoding: str = "binary") -> Any:
    """The batch of the windows ``idx``, empty windows dropped: CSR (offsets, cols), or a CPU
    :class:`~bows.model.Batch` when ``vocab_size`` is given (``None`` if every window is empty). In the ``counts``
    encoding (``vocab_size`` required) a :class:`~bows.model.DenseBatch` of the per-window record counts."""
    if encoding == "counts":
        offsets, cols, values = windows.batch_counts(np.asarray(idx, dtype=np.int64))
        offsets, cols = _drop_empty(offsets, cols)
        return DenseBatch.from_csr(offsets, cols, values, vocab_size) if len(offsets) > 1 else None
    offsets, cols = windows.batch_csr(np.asarray(idx, dtype=np.int64))
    offsets, cols = _drop_empty(np.asarray(offsets, dtype=np.int64), np.asarray(cols, dtype=np.int64))
    if vocab_size is None:
        return offsets, cols
    return make_batch(offsets, cols, vocab_size) if len(offsets) > 1 else None


def batches(
    windows: WindowSource,
    idx: np.ndarray,
    batch_size: int,
    vocab_size: int | None = None,
    workers: int = 1,
    device: torch.device | str | None = None,
    encoding: str = "binary",
) -> Iterator[Any]:
    """:func:`build_batch` of the windows ``idx`` in order, ``batch_size`` at a time.

    ``workers`` background threads build the next batches while the current one trains (the numba kernels release
    the GIL). With a CUDA ``device`` (and ``vocab_size``) the workers also copy each batch to the GPU from pinned
    memory on a side stream, so the training thread neither builds nor copies; the batch it receives is ready for
    its stream (an event wait on the GPU, no host synchronisation).
    """
    starts = range(0, len(idx), batch_size)
    if len(starts) == 0:
        return
    workers = max(1, int(workers))
    stream = _copy_stream(device) if vocab_size is not None else None

    def load(s: int) -> Any:
        return _to_device(build_batch(windows, idx[s : s + batch_size], vocab_size, encoding), device, stream)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bows-batches") as pool:
        pending = deque(pool.submit(load, s) for s in starts[:workers])
        for k in range(len(starts)):
            item = pending.popleft().result()
            if k + workers < len(starts):
                pending.append(pool.submit(load, starts[k + workers]))
            yield _ready(item, device)


def _copy_stream(device: torch.device | str | None) -> Any:
    """A CUDA side stream for the batches' host-to-device copies (None off CUDA)."""
    if device is None or torch.device(device).type != "cuda":
        return None
    return torch.cuda.Stream(device=torch.device(device))


def _to_device(batch: Any, device: torch.device | str | None, stream: Any) -> Any:
    """(batch on the GPU, the event its copy records) on ``stream``; the batch itself when there is no stream."""
    if stream is None or batch is None:
        return batch
    with torch.cuda.stream(stream):
        out = batch.to(device)  # pinned buffers, non_blocking copies
        event = torch.cuda.Event()
        event.record(stream)
    return out, event


def _ready(item: Any, device: torch.device | str | None) -> Any:
    """A loaded batch, usable on the current stream: wait for its copy there (on the GPU, not the host)."""
    if not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[1], torch.cuda.Event):
        return item
    batch, event = item
    current = torch.cuda.current_stream(torch.device(device))
    current.wait_event(event)
    for t in getattr(batch, "_fields", tuple)():
        t.record_stream(current)  # the allocator keeps the memory until the step's kernels are done with it
    return batch


def loader_threads(settings: TrainSettings, device: torch.device | str) -> int:
    """Batch-building threads: ``loader_threads``, else 1 on the CPU (the step uses the cores) and the job's
    threads on a GPU (the step waits on the loader there)."""
    if settings.loader_threads:
        return int(settings.loader_threads)
    return max(1, int(settings.threads)) if torch.device(device).type == "cuda" else 1


def set_determinism(on: bool) -> None:
    """``torch.use_deterministic_algorithms`` (warning, not failing, on an op without a deterministic version) and
    the cuBLAS workspace setting it needs on CUDA (read when cuBLAS starts, so set before the first product)."""
    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(bool(on), warn_only=True)


# --------------------------------------------------------------------------------------------- the trainer


@dataclass
class History:
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    heldout_loss: list[float | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)


def _precision(precision: str, device: torch.device) -> torch.dtype | None:
    if precision == "bf16":
        return torch.bfloat16
    if precision == "tf32":
        if device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        return None
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return None


def _show_progress(flag: bool | None) -> bool:
    if flag is not None:
        return bool(flag)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Trainer:
    """Trains one model of the grid; :meth:`run` resumes from ``ckpt_dir`` when a matching checkpoint exists."""

    def __init__(
        self,
        windows: WindowSource,
        vocab_size: int,
        train_idx: np.ndarray,
        heldout_idx: np.ndarray,
        latent: int,
        weight_decay: float,
        seed: int,
        settings: TrainSettings,
        variant: str = "relu",
        ckpt_dir: str | os.PathLike | None = None,
        device: torch.device | str = "cpu",
        data_id: str = "",
        encoding: str = "binary",
        observers: Observers | None = None,
    ):
        if len(train_idx) == 0:
            raise ShapeError("no training windows", "lower windows.group_size or use a larger corpus")
        if latent > vocab_size:
            raise ShapeError(
                f"latent size {latent} exceeds the vocabulary size {vocab_size}", "use a latent size at most V"
            )
        self.windows = windows
        self.V = int(vocab_size)
        self.train_idx = np.asarray(train_idx, dtype=np.int64)
        self.heldout_idx = np.asarray(heldout_idx, dtype=np.int64)
        self.latent, self.weight_decay, self.seed, self.variant = int(latent), float(weight_decay), int(seed), variant
        self.s = settings
        self.encoding = encoding
        self.device = torch.device(device)
        self.compute_dtype = _precision(settings.precision, self.device)
        set_determinism(settings.deterministic)
        self.loader_workers = loader_threads(settings, self.device)
        self.ckpt_dir = Path(ckpt_dir) if ckpt_dir else None
        self.steps_per_epoch = math.ceil(len(self.train_idx) / settings.batch_size)
        self.total_steps = settings.epochs * self.steps_per_epoch
        if settings.max_steps:
            self.total_steps = min(self.total_steps, int(settings.max_steps))
        self.observers = observers or Observers()  # snapshots and TensorBoard (bows.observers)
        self.fingerprint = settings.fingerprint(
            V=self.V,
            latent=self.latent,
            wd=self.weight_decay,
            seed=self.seed,
            variant=variant,
            n_train=len(self.train_idx),
            data=data_id,
            **({"encoding": encoding} if encoding != "binary" else {}),
            **self.observers.fingerprint(),
        )
        self.gen = torch.Generator().manual_seed(self.seed)
        self.model = TiedAutoencoder(
            self.V,
            self.latent,
            variant=variant,
            latent_relu=settings.latent_relu,
            loss=settings.loss,
            generator=self.gen,
        ).to(self.device)
        self.opt = make_optimizer(
            self.model, settings.lr, settings.betas, settings.eps, self.weight_decay, settings.decay_bias
        )
        self.sched = make_scheduler(self.opt, self.total_steps)
        self.epoch = 0  # epochs completed
        self.step = 0
        self.history = History()
        self.resumed_from: int | None = None
        self.device_facts = devices.device_facts(self.device, settings.precision, settings.deterministic)
        self.device_change: dict[str, Any] | None = None  # set when resuming a checkpoint of another device
        self.train_seconds = 0.0
        self.log_every = 120.0  # seconds between progress lines when no progress bar is shown

    # ----------------------------------------------------------------------------------------- checkpoints
    @property
    def ckpt_path(self) -> Path | None:
        return self.ckpt_dir / CHECKPOINT if self.ckpt_dir else None

    def state(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint,
            "epoch": self.epoch,
            "step": self.step,
            "model": {"E": self.model.E.detach().cpu(), "b": self.model.b.detach().cpu()},
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "rng": {"torch": self.gen.get_state()},
            "history": asdict(self.history),
            "train_seconds": self.train_seconds,
            "device": self.device_facts,
        }

    def save_checkpoint(self) -> None:
        if self.ckpt_path is None:
            return
        save_state(self.ckpt_path, self.state())

    def try_resume(self) -> bool:
        """Load ``state.pt`` if it belongs to this run; a foreign or unreadable one is ignored (logged)."""
        path = self.ckpt_path
        if path is not None:
            for stale in remove_stale_temps(path):  # a kill during a checkpoint write leaves its temporary file
                log.info("removed %s, left by an interrupted checkpoint write", stale)
        if path is None or not path.is_file():
            return False
        try:
            st = safe_load(path, "checkpoint")
        except CheckpointError as err:
            log.warning("ignoring checkpoint: %s", err)
            return False
        if (
            not isinstance(st, dict)
            or st.get("format") != CHECKPOINT_FORMAT
            or st.get("fingerprint") != self.fingerprint
        ):
            log.warning("ignoring checkpoint %s: written for other settings or data; training from scratch", path)
            return False
        with torch.no_grad():
            self.model.E.copy_(st["model"]["E"])
            self.model.b.copy_(st["model"]["b"])
        self.opt.load_state_dict(st["optimizer"])
        self.sched.load_state_dict(st["scheduler"])
        self.gen.set_state(st["rng"]["torch"])
        self.epoch, self.step = int(st["epoch"]), int(st["step"])
        self.history = History(**st["history"])
        self.train_seconds = float(st.get("train_seconds", 0.0))
        self.resumed_from = self.epoch
        self.check_device(st.get("device"))
        log.info("resuming from %s after epoch %d/%d (step %d)", path, self.epoch, self.s.epochs, self.step)
        return True

    def check_device(self, saved: Mapping[str, Any] | None) -> None:
        """Warn, and keep for ``run.json``, when the checkpoint was written on another device or software: the
        resumed run is then not bit-identical to an uninterrupted one."""
        if devices.device_key(saved) == devices.device_key(self.device_facts):
            return
        self.device_change = {
            "checkpoint": dict(saved or {}),
            "now": self.device_facts,
            "note": "resumed on another device or software: not bit-identical to one run",
        }
        log.warning(
            "the checkpoint was written on %s; resuming on %s: the weights will not be bit-identical to "
            "an uninterrupted run",
            devices.device_key(saved),
            devices.device_key(self.device_facts),
        )

    # ----------------------------------------------------------------------------------------- loops

    def evaluate(self) -> float | None:
        """Mean loss over the held-out windows (all B×V entries of every batch; batches capped by eval_batches)."""
        if len(self.heldout_idx) == 0:
            return None
        idx = self.heldout_idx
        if self.s.eval_batches:
            idx = idx[: self.s.eval_batches * self.s.batch_size]
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        rows = 0
        with torch.no_grad():
            for batch in batches(
                self.windows, idx, self.s.batch_size, self.V, self.loader_workers, self.device, self.encoding
            ):
                if batch is None:
                    continue
                batch = batch.to(self.device)
                total += self.model.loss(batch, self.compute_dtype).double() * batch.size
                rows += batch.size
        return float(total) / rows if rows else None

    def train_epoch(self, bar: Any = None) -> float:
        model, opt, sched = self.model, self.opt, self.sched
        order = self.train_idx[epoch_order(len(self.train_idx), self.seed, self.epoch)]
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        rows = 0
        t0 = last_log = time.perf_counter()
        order = order[: max(0, self.total_steps - self.step) * self.s.batch_size]  # a max_steps cap
        loader = batches(
            self.windows, order, self.s.batch_size, self.V, self.loader_workers, self.device, self.encoding
        )
        for k, batch in enumerate(loader):
            loss = None
            if batch is not None:
                batch = batch.to(self.device)
                loss = model.loss_and_grad(batch, self.compute_dtype)  # writes E.grad, b.grad
                opt.step()
                total += loss.detach().double() * batch.size
                rows += batch.size
            sched.step()  # the schedule advances per batch, even for a batch of empty windows
            self.step += 1
            self.observers.after_step(self.step, model, loss)
            if bar is not None and not bar.disable:
                bar.update(1)
                if k % 20 == 0 or k + 1 == self.steps_per_epoch:
                    bar.set_postfix(
                        epoch=self.epoch + 1,
                        loss=f"{float(total) / max(rows, 1):.5f}",
                        steps_s=f"{(k + 1) / (time.perf_counter() - t0):.2f}",
                        refresh=False,
                    )
            elif time.perf_counter() - last_log > self.log_every:  # quiet logs: one line now and then
                last_log = time.perf_counter()
                log.info(
                    "epoch %d/%d  step %d/%d  loss %.6g  %.2f steps/s",
                    self.epoch + 1,
                    self.s.epochs,
                    k + 1,
                    self.steps_per_epoch,
                    float(total) / max(rows, 1),
                    (k + 1) / (last_log - t0),
                )
        return float(total) / max(rows, 1)

    def run_epoch(self, bar: Any = None) -> None:
        """One epoch (or what is left of it under ``max_steps``), its held-out loss, history and checkpoint."""
        t0, first = time.perf_counter(), self.step
        train_loss = self.train_epoch(bar)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        train_s = time.perf_counter() - t0
        heldout = self.evaluate()
        self.epoch += 1
        self.train_seconds += train_s
        h = self.history
        h.epoch.append(self.epoch)
        h.train_loss.append(train_loss)
        h.heldout_loss.append(heldout)
        h.seconds.append(round(time.perf_counter() - t0, 3))
        h.steps.append(self.step - first)
        log.info(
            "epoch %d/%d  train %.6g  held-out %s  %.2f steps/s",
            self.epoch,
            self.s.epochs,
            train_loss,
            "n/a" if heldout is None else f"{heldout:.6g}",
            (self.step - first) / max(train_s, 1e-9),
        )
        self.observers.after_epoch(
            self.step,
            {
                "train_loss": train_loss,
                "heldout_loss": heldout,
                "steps_per_second": (self.step - first) / max(train_s, 1e-9),
            },
        )
        last = self.epoch == self.s.epochs or self.step >= self.total_steps
        if self.epoch % self.s.checkpoint_every == 0 or last:
            self.save_checkpoint()

    def run(self) -> TiedAutoencoder:
        """Train (or finish training) the model; returns it."""
        self.try_resume()
        self.observers.start(self.step, self.total_steps, self.fingerprint, self.model)
        from tqdm.auto import tqdm

        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            unit="step",
            dynamic_ncols=True,
            desc=f"{self.variant} L{self.latent} wd{self.weight_decay} seed{self.seed}",
            disable=not _show_progress(self.s.progress),
            file=sys.stderr,
        )
        try:
            while self.epoch < self.s.epochs and self.step < self.total_steps:
                self.run_epoch(bar)
        finally:
            bar.close()
            self.observers.close()
        return self.model

    def summary(self) -> dict[str, Any]:
        h = self.history
        return {
            "epochs": self.s.epochs,
            "steps_per_epoch": self.steps_per_epoch,
            "steps": self.step,
            "train_windows": int(len(self.train_idx)),
            "heldout_windows": int(len(self.heldout_idx)),
            "history": {
                "epoch": h.epoch,
                "train_loss": h.train_loss,
                "heldout_loss": h.heldout_loss,
                "seconds": h.seconds,
            },
            "final_train_loss": h.train_loss[-1] if h.train_loss else None,
            "final_heldout_loss": h.heldout_loss[-1] if h.heldout_loss else None,
            "train_seconds": round(self.train_seconds, 3),
            "steps_per_second": round(self.step / self.train_seconds, 3) if self.train_seconds > 0 else None,
            "resumed_from_epoch": self.resumed_from,
            "exposure": exposure_record(self.weight_decay, self.s.lr, self.total_steps),
            "device": str(self.device),
            "threads": torch.get_num_threads(),
            "loader_threads": self.loader_workers,
            "device_facts": self.device_facts,
            "resumed_on_other_device": self.device_change,
        }


def train(
    windows: WindowSource,
    vocab_size: int,
    train_idx: np.ndarray,
    heldout_idx: np.ndarray,
    latent: int,
    weight_decay: float,
    seed: int,
    settings: TrainSettings | Mapping[str, Any] | None = None,
    variant: str = "relu",
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
    tr = Trainer(
        windows,
        vocab_size,
        train_idx,
        heldout_idx,
        latent,
        weight_decay,
        seed,
        settings,
        variant,
        ckpt_dir,
        device,
        observers=observers,
    )
    model = tr.run()
    return model, tr.summary()


# --------------------------------------------------------------------------------------------- the rule's call


def train_model(
    docs: str | os.PathLike,
    train_windows: str | os.PathLike,
    heldout_windows: str | os.PathLike,
    model_out: str | os.PathLike,
    run_out: str | os.PathLike,
    ckpt_dir: str | os.PathLike,
    variant: str,
    latent: int,
    weight_decay: float,
    seed: int,
    train_cfg: Mapping[str, Any],
    windows_cfg: Mapping[str, Any],
    threads: int = 2,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one grid model from the pipeline's files and write ``model.pt`` and ``run.json``.

    ``docs`` is the train split's CSR prefix (``{VOC}/docs/train``); windows are the unions of
    ``windows_cfg.group_size`` consecutive documents with ``windows_cfg.stride`` (see :mod:`bows.windows`).
    """
    settings = TrainSettings.from_config(train_cfg)
    settings.threads = int(threads)
    if settings.checkpoint_every < 1 or settings.epochs < 1 or settings.batch_size < 1:
        raise ConfigError(
            "train.epochs, train.batch_size and train.checkpoint_every must be ≥ 1",
            "fix them in the train section of the config",
        )
    observers = Observers.for_run(train_cfg, ckpt_dir, Path(model_out).parent, weight_decay)  # checks first
    if settings.deterministic:
        set_determinism(True)  # the cuBLAS setting must precede CUDA
    units = devices.gpu_units(int(latent), settings.jobs_per_gpu, settings.whole_gpu_latent)
    lease = devices.select_device(
        settings.device,
        timeout=settings.gpu_lease_timeout,  # before CUDA starts
        jobs_per_gpu=settings.jobs_per_gpu,
        units=units,
    )
    from .encode import load_docs
    from .windows import Windows

    docs_ = load_docs(str(docs), mmap=True)
    win = Windows(docs_, int(windows_cfg["group_size"]), int(windows_cfg["stride"]))
    train_idx = np.load(train_windows, mmap_mode="r")
    heldout_idx = np.load(heldout_windows, mmap_mode="r")
    if len(train_idx) and int(np.max(train_idx)) >= len(win):
        raise ShapeError(
            f"{train_windows} indexes window {int(np.max(train_idx))} but the documents give only {len(win)} windows",
            "rerun the windows stage (snakemake windows) for this corpus",
        )
    torch.set_num_threads(max(1, int(threads)))
    kernels.set_threads(threads)
    data_id = f"{docs_.n_docs}:{docs_.vocab_size}:{len(train_idx)}:{len(heldout_idx)}"
    encoding = str(windows_cfg["encoding"])
    tr = Trainer(
        win,
        docs_.vocab_size,
        np.asarray(train_idx),
        np.asarray(heldout_idx),
        latent,
        weight_decay,
        seed,
        settings,
        variant,
        ckpt_dir,
        lease.device,
        data_id=data_id,
        encoding=encoding,
        observers=observers,
    )
    log.info(
        "training %s/L%d_wd%s_seed%d on %s: V=%d, %d train / %d held-out windows, %d steps",
        variant,
        latent,
        weight_decay,
        seed,
        lease.describe(),
        docs_.vocab_size,
        len(train_idx),
        len(heldout_idx),
        tr.total_steps,
    )
    E = exposure_record(weight_decay, settings.lr, tr.total_steps)["decay_exposure"]
    if weight_decay > 0 and E < 1:
        log.warning(
            "decay exposure E = wd · Σ lr_t = %.3g < 1: the weight decay barely acts (see docs/baselines.md)", E
        )
    t0 = time.perf_counter()
    model = tr.run()
    W, b = model.weights()
    observers.publish(Path(model_out).parent)
    save_weights(model_out, W, b)
    summary = tr.summary()
    summary["wall_seconds"] = round(time.perf_counter() - t0, 3)
    prov = provenance(
        config or {"train": dict(train_cfg), "windows": dict(windows_cfg)},
        inputs={
            "docs_indptr": f"{docs}.indptr.npy",
            "docs_indices": f"{docs}.indices.npy",
            "train_windows": str(train_windows),
            "heldout_windows": str(heldout_windows),
        },
        hash_inputs=True,
        outputs={"model": str(model_out), "run": str(run_out)},
    )
    record = {
        "model": {
            "variant": variant,
            "latent": int(latent),
            "weight_decay": float(weight_decay),
            "seed": int(seed),
            "vocab_size": int(docs_.vocab_size),
            "group_size": int(windows_cfg["group_size"]),
            "stride": int(windows_cfg["stride"]),
            "encoding": encoding,
        },
        "train": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(settings).items()},
        **summary,
        "device_lease": lease.record(),
        "provenance": prov,
    }
    write_json(sidecar_path(model_out), prov)
    write_json(run_out, record)
    if not settings.keep_checkpoints and tr.ckpt_path is not None:
        observers.discard()
        tr.ckpt_path.unlink(missing_ok=True)
        try:
            tr.ckpt_path.parent.rmdir()  # only if empty
        except OSError:
            pass
    lease.release()
    return record
