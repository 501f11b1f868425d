"""Choosing the device of a training job, and sharing the GPUs of one machine between jobs.

``device: auto`` trains on CUDA when a GPU is visible, else on the CPU; ``cpu``, ``cuda`` and ``mps`` force one.

Several GPU jobs on one machine (``snakemake --cores all --resources gpu=4``) each take one device with a *lease*:
a lock file per GPU (``{lock_dir}/gpu{id}.lock``) held with ``flock`` for the life of the process. The job takes the
first free GPU and sets ``CUDA_VISIBLE_DEVICES`` to it before CUDA initialises, so it sees that GPU as ``cuda:0``
and no other. The kernel drops the lock when the process ends, even by SIGKILL, so no lease outlives its job. On a
SLURM node the scheduler already narrows ``CUDA_VISIBLE_DEVICES`` to the job's GPUs; the lease then picks among
those. GPUs are counted without initialising CUDA (``CUDA_VISIBLE_DEVICES``, ``/proc/driver/nvidia/gpus``, or
``nvidia-smi -L``); ``BOWS_FAKE_GPUS=N`` pretends there are N (for tests).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import BowsError

__all__ = ["DeviceError", "Lease", "visible_gpus", "wants_gpu", "job_resources", "default_lock_dir", "lease_gpu", "select_device"]

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
    """Whether a job with ``train.device = device`` runs on a CUDA GPU (``auto``: when one is visible)."""
    if device == "cuda":
        return True
    return device == "auto" and bool(visible_gpus(env))


def job_resources(device: str, gpu_model: str | None = None, env: Mapping[str, str] | None = None
                  ) -> dict[str, Any]:
    """Snakemake resources of a training job: ``gpu=1`` (and ``gpu_model``) when it trains on CUDA, else none."""
    if not wants_gpu(device, env):
        return {}
    return {"gpu": 1, **({"gpu_model": gpu_model} if gpu_model else {})}


def default_lock_dir() -> Path:
    """``$BOWS_GPU_LOCK_DIR``, else ``{tmp}/bows-gpu-locks-{uid}`` (shared by all jobs of one user on one machine)."""
    env = os.environ.get("BOWS_GPU_LOCK_DIR")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / f"bows-gpu-locks-{os.getuid()}"


@dataclass
class Lease:
    """A device held by this process; for a GPU, the open lock file that reserves it."""

    device: str
    gpu: str | None = None
    lock_path: Path | None = None
    _fd: int | None = field(default=None, repr=False)
    waited_seconds: float = 0.0

    def describe(self) -> str:
        return self.device if self.gpu is None else f"{self.device} (GPU {self.gpu}, lease {self.lock_path})"

    def record(self) -> dict[str, Any]:
        return {"device": self.device, "gpu": self.gpu, "lock": str(self.lock_path) if self.lock_path else None,
                "waited_seconds": round(self.waited_seconds, 3)}

    def release(self) -> None:
        """Give the GPU back (also happens automatically when the process ends)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "Lease":
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


def lease_gpu(gpus: list[str] | None = None, lock_dir: str | os.PathLike | None = None, timeout: float = 600.0,
              poll: float = 1.0, set_env: bool = True) -> Lease:
    """Hold the first free GPU of ``gpus`` (default :func:`visible_gpus`), waiting up to ``timeout`` seconds.

    With ``set_env`` (the default) ``CUDA_VISIBLE_DEVICES`` becomes that GPU's id, so the process must not have
    initialised CUDA yet; the device is then ``cuda:0``. Raises :class:`DeviceError` when there is no GPU or none
    frees up in time.
    """
    gpus = visible_gpus() if gpus is None else list(gpus)
    if not gpus:
        raise DeviceError("train.device asks for CUDA but no GPU is visible (CUDA_VISIBLE_DEVICES, nvidia-smi)",
                          "set train.device: cpu (or auto), or run on a machine with an NVIDIA GPU")
    lock_dir = Path(lock_dir) if lock_dir else default_lock_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    while True:
        for pos, gpu in enumerate(gpus):
            path = lock_dir / f"gpu{gpu.replace('/', '_')}.lock"
            fd = _try_lock(path)
            if fd is None:
                continue
            device = "cuda:0"
            if set_env:
                if _cuda_initialised():
                    device = f"cuda:{pos}"  # too late to narrow the process's view: address it by position
                else:
                    os.environ["CUDA_VISIBLE_DEVICES"] = gpu
            waited = time.monotonic() - start
            log.info("leased GPU %s (%s) after %.1f s", gpu, path, waited)
            return Lease(device=device, gpu=gpu, lock_path=path, _fd=fd, waited_seconds=waited)
        if time.monotonic() - start >= timeout:
            raise DeviceError(f"all {len(gpus)} GPUs ({', '.join(gpus)}) stayed leased for {timeout:.0f} s "
                              f"(locks in {lock_dir})",
                              "run fewer GPU jobs at once (snakemake --resources gpu=N with N = number of GPUs), "
                              "or raise train.gpu_lease_timeout")
        time.sleep(poll)


def _cuda_initialised() -> bool:
    import sys

    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


def select_device(name: str = "auto", lock_dir: str | os.PathLike | None = None, timeout: float = 600.0) -> Lease:
    """The device a training job uses: a :class:`Lease` on a GPU for ``cuda`` (or ``auto`` with a GPU), else CPU."""
    if name not in DEVICES:
        raise DeviceError(f"unknown device {name!r}", f"use one of {list(DEVICES)}")
    if name == "cpu":
        return Lease("cpu")
    if name == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise DeviceError("train.device is mps but Apple's Metal backend is not available",
                              "set train.device: cpu or auto")
        return Lease("mps")
    gpus = visible_gpus()
    if name == "auto" and not gpus:
        return Lease("cpu")
    lease = lease_gpu(gpus, lock_dir=lock_dir, timeout=timeout)
    import torch

    if not torch.cuda.is_available():
        lease.release()
        if name == "auto":
            log.warning("a GPU is visible but this torch build cannot use CUDA; training on the CPU")
            return Lease("cpu")
        raise DeviceError("train.device is cuda but this torch build has no CUDA support",
                          "install a CUDA build of torch (envs/train.yaml) or set train.device: cpu")
    return lease
