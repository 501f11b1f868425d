"""Choosing the device of a training job, and sharing the GPUs of one machine between jobs.

``device: cuda`` trains on a GPU and fails with a clear error when the job cannot use CUDA (no GPU visible, or a
torch build without CUDA): a job that asked for a GPU never trains on the CPU instead. ``cpu`` and ``mps`` force
those; ``auto`` takes CUDA when the job finds a usable GPU, else the CPU (with a warning when a GPU is visible but
unusable). Only ``cuda`` makes the training rule request a GPU from Snakemake or SLURM (:func:`job_resources`); that
request never depends on the GPUs of the machine that parses the workflow (a SLURM login node has none).

Several GPU jobs on one machine (``snakemake --profile profiles/gpu``, ``resources: gpu=N``) each take a GPU with a
*lease*: lock files per GPU in ``{lock_dir}`` held with ``flock`` for the life of the process. With
``train.jobs_per_gpu = k`` a GPU has k slots (``gpu{id}.slot{j}.lock``); a job takes one slot, a model with latent
≥ ``train.whole_gpu_latent`` takes all k slots of one GPU (with k = 1 the single lock ``gpu{id}.lock``). The job sets
``CUDA_VISIBLE_DEVICES`` to its GPU before CUDA initialises, so it sees that GPU as ``cuda:0`` and no other. The
kernel drops the locks when the process ends, even by SIGKILL, so no lease outlives its job.

Inside a SLURM job (``SLURM_JOB_ID`` set) the scheduler's assignment is used as is: SLURM narrows
``CUDA_VISIBLE_DEVICES`` to the job's GPUs and numbers them from 0 in every job, so lock files keyed on those ids
would collide between jobs on one node. A job with one GPU takes it without any lock; a job running several
training jobs in one allocation leases among its own GPUs with lock files in a folder keyed by the job id
(``{lock_dir}/slurm-{SLURM_JOB_ID}``). GPUs are counted without initialising CUDA (``CUDA_VISIBLE_DEVICES``,
``/proc/driver/nvidia/gpus``, or ``nvidia-smi -L``); ``BOWS_FAKE_GPUS=N`` pretends there are N (for tests).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BowsError

__all__ = [
    "DeviceError",
    "Lease",
    "visible_gpus",
    "wants_gpu",
    "gpu_units",
    "job_resources",
    "rule_resources",
    "slurm_job",
    "default_lock_dir",
    "lease_gpu",
    "select_device",
    "device_facts",
    "device_key",
    "set_determinism",
    "configure_precision",
]

log = logging.getLogger("bows.devices")

DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceError(BowsError):
    """The requested device does not exist or no GPU could be leased."""


def _count_physical_gpus() -> int:
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        n = sum(1 for _ in proc.iterdir())
        if n:
            return n
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
            if out.returncode == 0:
                return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))
        except (OSError, subprocess.SubprocessError):
            pass
    return 0


def visible_gpus(env: Mapping[str, str] | None = None) -> list[str]:
    """Ids of the GPUs this process may use, found without initialising CUDA.

    ``BOWS_FAKE_GPUS=N`` → ``["0", …, "N-1"]`` (tests). Else ``CUDA_VISIBLE_DEVICES`` when set (ids or UUIDs; empty
    or ``-1`` means none). Else every NVIDIA GPU of the machine.
    """
    env = os.environ if env is None else env
    fake = env.get("BOWS_FAKE_GPUS")
    if fake not in (None, ""):
        return [str(i) for i in range(int(fake))]
    cvd = env.get("CUDA_VISIBLE_DEVICES")
    if cvd is not None:
        ids = [s.strip() for s in cvd.split(",") if s.strip()]
        out = []
        for s in ids:
            if s.startswith("-"):  # CUDA stops at the first invalid id
                break
            out.append(s)
        return out
    return [str(i) for i in range(_count_physical_gpus())]


def wants_gpu(device: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether a job with ``train.device = device`` looks for a CUDA GPU at run time (``auto``: when one is visible).

    Decided inside the job; the rule's GPU request is :func:`job_resources`, which does not look at the machine.
    """
    if device == "cuda":
        return True
    return device == "auto" and bool(visible_gpus(env))


def gpu_units(latent: int | None, jobs_per_gpu: int, whole_gpu_latent: int) -> int:
    """GPU slots a training job takes: 1, or all ``jobs_per_gpu`` slots of a GPU for latent ≥ ``whole_gpu_latent``."""
    if jobs_per_gpu <= 1 or latent is None or latent < whole_gpu_latent:
        return 1
    return int(jobs_per_gpu)


def job_resources(device: str, gpu_model: str | None = None) -> dict[str, Any]:
    """Snakemake resources of a job that trains on ``device``: one ``gpu`` (shared slots: :func:`rule_resources`)
    and ``gpu_model`` when ``device`` is ``cuda``, else none.

    Depends on the config only, never on the GPUs of the machine that parses the workflow: ``auto`` asks for no
    GPU (on a cluster, set ``train.device: cuda``).
    """
    if device != "cuda":
        return {}
    return {"gpu": 1, **({"gpu_model": gpu_model} if gpu_model else {})}


def rule_resources(train_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`job_resources` of the training rule from the ``train`` config section: ``gpu`` is a number, or with
    ``jobs_per_gpu`` > 1 a function of the job's wildcards (its latent size)."""
    device, jobs = train_cfg["device"], int(train_cfg["jobs_per_gpu"])
    res = job_resources(device, train_cfg["gpu_model"])
    if res and jobs > 1:
        whole = int(train_cfg["whole_gpu_latent"])
        res["gpu"] = lambda wc: gpu_units(int(wc.latent), jobs, whole)
    return res


def slurm_job(env: Mapping[str, str] | None = None) -> str | None:
    """The SLURM job id when this process runs inside a SLURM allocation, else None."""
    env = os.environ if env is None else env
    return env.get("SLURM_JOB_ID") or None


def default_lock_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$BOWS_GPU_LOCK_DIR``, else ``{tmp}/bows-gpu-locks-{uid}`` (shared by all jobs of one user on one machine);
    inside a SLURM job, its subfolder ``slurm-{SLURM_JOB_ID}`` (GPU ids are per job there)."""
    env = os.environ if env is None else env
    base = (
        Path(env["BOWS_GPU_LOCK_DIR"])
        if env.get("BOWS_GPU_LOCK_DIR")
        else Path(tempfile.gettempdir()) / f"bows-gpu-locks-{os.getuid()}"
    )
    job = slurm_job(env)
    return base / f"slurm-{job}" if job else base


@dataclass
class Lease:
    """A device held by this process; for a leased GPU, the open lock files of its slots."""

    device: str
    gpu: str | None = None
    lock_path: Path | None = None
    _fds: list[int] = field(default_factory=list, repr=False)
    waited_seconds: float = 0.0
    slots: int = 1
    source: str = "lease"  # "lease" (lock files), "slurm" (the scheduler's assignment as is), or "none"

    def describe(self) -> str:
        if self.gpu is None:
            return self.device
        how = f"lease {self.lock_path}" if self.lock_path else "assigned by SLURM"
        return f"{self.device} (GPU {self.gpu}, {how})"

    def record(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "gpu": self.gpu,
            "lock": str(self.lock_path) if self.lock_path else None,
            "slots": self.slots,
            "source": self.source,
            "waited_seconds": round(self.waited_seconds, 3),
        }

    def release(self) -> None:
        """Give the GPU back (also happens automatically when the process ends)."""
        for fd in self._fds:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()} {os.uname().nodename}\n".encode())
    return fd


def _slot_paths(lock_dir: Path, gpu: str, slots: int) -> list[Path]:
    name = gpu.replace("/", "_")
    if slots <= 1:
        return [lock_dir / f"gpu{name}.lock"]
    return [lock_dir / f"gpu{name}.slot{j}.lock" for j in range(slots)]


def _try_gpu(lock_dir: Path, gpu: str, slots: int, take: int) -> tuple[list[int], Path] | None:
    """Lock one free slot of ``gpu`` (``take`` = 1) or all its slots (``take`` = ``slots``); None when busy."""
    paths = _slot_paths(lock_dir, gpu, slots)
    if take <= 1:
        for path in paths:
            fd = _try_lock(path)
            if fd is not None:
                return [fd], path
        return None
    fds = []
    for path in paths:
        fd = _try_lock(path)
        if fd is None:
            Lease("cuda", _fds=fds).release()
            return None
        fds.append(fd)
    return fds, paths[0]


def lease_gpu(
    gpus: list[str] | None = None,
    lock_dir: str | os.PathLike | None = None,
    timeout: float = 600.0,
    poll: float = 1.0,
    set_env: bool = True,
    slots: int = 1,
    take: int = 1,
) -> Lease:
    """Hold a slot of the first GPU of ``gpus`` (default :func:`visible_gpus`) with one free, or with ``take`` =
    ``slots`` a whole GPU, waiting up to ``timeout`` seconds. Slots fill GPU by GPU, so whole GPUs stay free for
    large models.

    With ``set_env`` (the default) ``CUDA_VISIBLE_DEVICES`` becomes that GPU's id, so the process must not have
    initialised CUDA yet; the device is then ``cuda:0``. Raises :class:`DeviceError` when there is no GPU or none
    frees up in time.
    """
    gpus = visible_gpus() if gpus is None else list(gpus)
    if not gpus:
        raise DeviceError(
            "train.device asks for CUDA but no GPU is visible (CUDA_VISIBLE_DEVICES, nvidia-smi)",
            "set train.device: cpu (or auto), or run on a machine with an NVIDIA GPU",
        )
    slots, take = max(1, int(slots)), min(max(1, int(take)), max(1, int(slots)))
    lock_dir = Path(lock_dir) if lock_dir else default_lock_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    while True:
        for pos, gpu in enumerate(gpus):
            got = _try_gpu(lock_dir, gpu, slots, take)
            if got is None:
                continue
            device = _narrow_to(gpu, pos) if set_env else "cuda:0"
            waited = time.monotonic() - start
            log.info("leased GPU %s (%d of %d slots, %s) after %.1f s", gpu, take, slots, got[1], waited)
            return Lease(device=device, gpu=gpu, lock_path=got[1], _fds=got[0], waited_seconds=waited, slots=take)
        if time.monotonic() - start >= timeout:
            raise DeviceError(
                f"all {len(gpus)} GPUs ({', '.join(gpus)}) stayed leased for {timeout:.0f} s (locks in {lock_dir})",
                "run fewer GPU jobs at once (profiles/gpu: resources gpu = GPUs × train.jobs_per_gpu), "
                "or raise train.gpu_lease_timeout",
            )
        time.sleep(poll)


def _narrow_to(gpu: str, pos: int) -> str:
    """Make ``gpu`` the process's only CUDA device (``cuda:0``); too late once CUDA started: address it by position."""
    if _cuda_initialised():
        return f"cuda:{pos}"
    os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    return "cuda:0"


def _cuda_initialised() -> bool:
    import sys

    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


def _take_gpu(lock_dir: str | os.PathLike | None, timeout: float, jobs_per_gpu: int, units: int) -> Lease:
    """A GPU for this job: inside a one-GPU SLURM job the scheduler's GPU as is, else a lease (see module doc)."""
    gpus = visible_gpus()
    if slurm_job() and len(gpus) == 1 and jobs_per_gpu <= 1:
        return Lease("cuda:0", gpu=gpus[0], source="slurm")
    return lease_gpu(gpus, lock_dir=lock_dir, timeout=timeout, slots=jobs_per_gpu, take=units)


def _no_cuda(name: str, lease: Lease) -> Lease:
    """The torch build cannot use CUDA: fail for ``cuda``; fall back to the CPU for ``auto`` (it asked for no GPU)."""
    lease.release()
    if name == "auto":
        log.warning("a GPU is visible but this torch build cannot use CUDA; training on the CPU")
        return Lease("cpu", source="none")
    import torch

    raise DeviceError(
        f"train.device is cuda and this job has GPU {lease.gpu}, but this torch build cannot use CUDA "
        f"(torch {torch.__version__}, CUDA {torch.version.cuda}); the job does not train on the CPU "
        "instead",
        "use envs/train-cuda.yaml (the rule does with train.device: cuda) or a CUDA build of "
        "torch, or set train.device: cpu",
    )


def select_device(
    name: str = "auto",
    lock_dir: str | os.PathLike | None = None,
    timeout: float = 600.0,
    jobs_per_gpu: int = 1,
    units: int = 1,
) -> Lease:
    """The device a training job uses: a GPU for ``cuda`` (or ``auto`` with a GPU), else the CPU.

    ``cuda`` never falls back: no visible GPU or no CUDA in this torch raises :class:`DeviceError`. ``units`` slots
    of a GPU shared by ``jobs_per_gpu`` jobs (see :func:`gpu_units`).
    """
    if name not in DEVICES:
        raise DeviceError(f"unknown device {name!r}", f"use one of {list(DEVICES)}")
    if name == "cpu":
        return Lease("cpu", source="none")
    if name == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise DeviceError(
                "train.device is mps but Apple's Metal backend is not available", "set train.device: cpu or auto"
            )
        return Lease("mps", source="none")
    if name == "auto" and not visible_gpus():
        return Lease("cpu", source="none")
    if name == "cuda" and not visible_gpus():
        where = f"SLURM job {slurm_job()}" if slurm_job() else "this machine"
        raise DeviceError(
            f"train.device is cuda but {where} shows no GPU (CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r}); the job does not train on the CPU instead",
            "run it where a GPU is assigned (the rule requests one: resources gpu), or set train.device: cpu",
        )
    lease = _take_gpu(lock_dir, timeout, jobs_per_gpu, units)
    import torch

    if not torch.cuda.is_available():
        return _no_cuda(name, lease)
    return lease


# --------------------------------------------------------------------------------------------- numeric modes


def set_determinism(on: bool) -> None:
    """``torch.use_deterministic_algorithms`` (warning, not failing, on an op without a deterministic version) and
    the cuBLAS workspace setting it needs on CUDA (read when cuBLAS starts: call this before the first product)."""
    import torch

    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(bool(on), warn_only=True)


def configure_precision(precision: str, device: Any) -> Any:
    """Set the TF32 switches of CUDA for ``precision`` (fp32: off, tf32: on) and return the dtype of the step's
    dense products (bfloat16 for bf16, else None: float32)."""
    import torch

    if precision == "bf16":
        return torch.bfloat16
    if torch.device(device).type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
        torch.backends.cudnn.allow_tf32 = precision == "tf32"
    return None


# --------------------------------------------------------------------------------------------- what ran where


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    import platform

    return platform.processor() or platform.machine()


def _cuda_facts(device: Any) -> dict[str, Any]:
    import torch

    props = torch.cuda.get_device_properties(device)
    cublas = getattr(torch._C, "_cuda_getCompiledVersion", None)
    return {
        "gpu": props.name,
        "capability": f"{props.major}.{props.minor}",
        "memory_gib": round(props.total_memory / 2**30, 1),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cublas": _cublas_version(),
        "cuda_compiled": cublas() if cublas else None,
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "tf32_cudnn": bool(torch.backends.cudnn.allow_tf32),
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }


def _cublas_version() -> str | None:
    """cuBLAS's version number, read from the loaded library (None when it cannot be asked)."""
    import ctypes

    for name in ("libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11"):
        with contextlib.suppress(OSError, AttributeError):
            lib = ctypes.CDLL(name)
            ver = ctypes.c_int()
            if lib.cublasGetProperty(0, ctypes.byref(ver)) == 0:  # MAJOR_VERSION
                parts = [ver.value]
                for prop in (1, 2):
                    lib.cublasGetProperty(prop, ctypes.byref(ver))
                    parts.append(ver.value)
                return ".".join(map(str, parts))
    return None


def device_facts(device: Any, precision: str = "fp32", deterministic: bool = False) -> dict[str, Any]:
    """What a run's numbers depend on: device type and model, library versions, precision and determinism.

    On CUDA: GPU name and capability, CUDA, cuDNN and cuBLAS versions, the TF32 switches; on the CPU: the CPU model
    and thread count. Recorded in ``run.json`` and in checkpoints (compared on resume, :func:`device_key`).
    """
    import torch

    from . import kernels

    dev = torch.device(device)
    facts: dict[str, Any] = {
        "type": dev.type,
        "torch": str(torch.__version__),
        "precision": precision,
        "deterministic": bool(deterministic),
        "numba": kernels.HAVE_NUMBA,
    }
    if dev.type == "cuda":
        facts.update(_cuda_facts(dev))
    else:
        facts.update({"cpu": _cpu_model(), "threads": torch.get_num_threads()})
    return facts


def device_key(facts: Mapping[str, Any] | None) -> tuple:
    """The facts that make bit-identical training possible when equal: device type and model, torch and CUDA
    versions, precision (and on the CPU the thread count)."""
    f = dict(facts or {})
    return (
        f.get("type"),
        f.get("gpu") or f.get("cpu"),
        f.get("torch"),
        f.get("cuda"),
        f.get("precision"),
        f.get("threads"),
    )
