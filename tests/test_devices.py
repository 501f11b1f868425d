"""Device choice and GPU leases (with pretend GPUs: the lease logic needs no CUDA)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest
from bows import devices
from bows.config import section
from bows.devices import (
    DeviceError,
    default_lock_dir,
    gpu_units,
    job_resources,
    lease_gpu,
    rule_resources,
    select_device,
    visible_gpus,
    wants_gpu,
)
from conftest import ROOT, snakemake

_LEASE_VARS = (
    "BOWS_FAKE_GPUS",
    "CUDA_VISIBLE_DEVICES",
    "BOWS_GPU_LOCK_DIR",
    "SLURM_JOB_ID",
    "SLURM_JOB_GPUS",
    "SLURM_STEP_GPUS",
)


@pytest.fixture
def clean_env(monkeypatch):
    """No GPU variables during the test, and the process environment restored after it: a lease sets
    CUDA_VISIBLE_DEVICES in os.environ, which would otherwise leak into later tests' subprocesses."""
    saved = {k: os.environ.get(k) for k in _LEASE_VARS}
    for key in _LEASE_VARS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(devices, "_count_physical_gpus", lambda: 0)
    yield monkeypatch
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_visible_gpus_parsing(clean_env):
    assert visible_gpus({}) == []
    assert visible_gpus({"BOWS_FAKE_GPUS": "3"}) == ["0", "1", "2"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,5"}) == ["2", "5"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "1,-1,3"}) == ["1"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "GPU-ab12"}) == ["GPU-ab12"]
    clean_env.setattr(devices, "_count_physical_gpus", lambda: 2)
    assert visible_gpus({}) == ["0", "1"]


def test_wants_gpu(clean_env):
    assert wants_gpu("cuda", {})
    assert not wants_gpu("cpu", {"BOWS_FAKE_GPUS": "2"})
    assert wants_gpu("auto", {"BOWS_FAKE_GPUS": "2"})
    assert not wants_gpu("auto", {})


def test_leases_take_distinct_free_gpus(clean_env, tmp_path):
    a = lease_gpu(["0", "1"], lock_dir=tmp_path, set_env=False)
    b = lease_gpu(["0", "1"], lock_dir=tmp_path, set_env=False)
    assert {a.gpu, b.gpu} == {"0", "1"}
    with pytest.raises(DeviceError, match="stayed leased"):
        lease_gpu(["0", "1"], lock_dir=tmp_path, timeout=0.2, poll=0.05, set_env=False)
    a.release()
    c = lease_gpu(["0", "1"], lock_dir=tmp_path, timeout=0.2, set_env=False)
    assert c.gpu == a.gpu
    b.release()
    c.release()


def test_lease_sets_cuda_visible_devices(clean_env, tmp_path):
    clean_env.setenv("BOWS_FAKE_GPUS", "3")
    first = lease_gpu(lock_dir=tmp_path, set_env=False)
    second = lease_gpu(lock_dir=tmp_path)
    assert second.gpu == "1" and second.device == "cuda:0"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"
    assert second.record()["gpu"] == "1"
    first.release()
    second.release()


def test_waiting_lease_gets_gpu_when_freed(clean_env, tmp_path):
    import threading

    held = lease_gpu(["0"], lock_dir=tmp_path, set_env=False)
    threading.Timer(0.3, held.release).start()
    got = lease_gpu(["0"], lock_dir=tmp_path, timeout=10, poll=0.05, set_env=False)
    assert got.gpu == "0" and got.waited_seconds >= 0.2
    got.release()


def test_lease_dies_with_its_process(clean_env, tmp_path):
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT / "workflow")!r})
        from bows.devices import lease_gpu
        lease = lease_gpu(["0"], lock_dir={str(tmp_path)!r}, set_env=False)
        print("held", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(DeviceError):
            lease_gpu(["0"], lock_dir=tmp_path, timeout=0.1, poll=0.05, set_env=False)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        lease = lease_gpu(["0"], lock_dir=tmp_path, timeout=5, poll=0.05, set_env=False)
        assert lease.gpu == "0"
        lease.release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_select_device(clean_env, tmp_path):
    assert select_device("cpu").device == "cpu"
    assert select_device("auto", lock_dir=tmp_path).device == "cpu"
    with pytest.raises(DeviceError, match="shows no GPU"):
        select_device("cuda", lock_dir=tmp_path)
    with pytest.raises(DeviceError, match="unknown device"):
        select_device("tpu")


def test_select_device_fake_gpu_without_cuda_build(clean_env, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    clean_env.setenv("BOWS_FAKE_GPUS", "2")
    clean_env.setenv("CUDA_VISIBLE_DEVICES", "")  # restored by monkeypatch
    clean_env.delenv("CUDA_VISIBLE_DEVICES")
    assert select_device("auto", lock_dir=tmp_path).device == "cpu"  # warns, falls back
    with pytest.raises(DeviceError, match="cannot use CUDA.*does not train on the CPU"):
        select_device("cuda", lock_dir=tmp_path)
    # the lease was given back on failure
    lease = lease_gpu(["0"], lock_dir=tmp_path, timeout=0.1, set_env=False)
    lease.release()


def test_rule_requests_a_gpu_when_training_on_cuda(tmp_path):
    cfg = tmp_path / "cuda.yaml"
    cfg.write_text("train:\n  device: cuda\n  gpu_model: a100\n")
    out = snakemake(
        tmp_path / "wd",
        "-n",
        "--configfile",
        str(ROOT / "presets" / "smoke.yaml"),
        str(cfg),
        "--",
        "train",
        configfiles=(),
        env={"BOWS_FAKE_GPUS": "0"},
        timeout=300,
    )
    text = out.stdout + out.stderr
    blocks = [b for b in text.split("rule ") if b.startswith("train_model:")]
    assert blocks and all("gpu=1" in b and "gpu_model=a100" in b for b in blocks), text[-3000:]


# --------------------------------------------------------------------------------------------- GPU requests, SLURM


@pytest.mark.parametrize("gpus", ["0", "4"])
def test_gpu_request_does_not_depend_on_the_parsing_machine(clean_env, gpus):
    """A login node without GPUs and a GPU node parse the same request: only device cuda asks for a GPU."""
    clean_env.setenv("BOWS_FAKE_GPUS", gpus)
    assert job_resources("auto") == {}
    assert job_resources("cpu") == {}
    assert job_resources("cuda") == {"gpu": 1}
    assert job_resources("cuda", "h100") == {"gpu": 1, "gpu_model": "h100"}


def test_gpu_slots_per_model_size():
    assert gpu_units(4000, jobs_per_gpu=1, whole_gpu_latent=2000) == 1
    assert gpu_units(400, jobs_per_gpu=4, whole_gpu_latent=2000) == 1
    assert gpu_units(1999, jobs_per_gpu=4, whole_gpu_latent=2000) == 1
    assert gpu_units(2000, jobs_per_gpu=4, whole_gpu_latent=2000) == 4
    assert gpu_units(10000, jobs_per_gpu=3, whole_gpu_latent=2000) == 3
    res = rule_resources(section("train", {"device": "cuda", "jobs_per_gpu": 4, "whole_gpu_latent": 2000}))
    assert res["gpu"](SimpleNamespace(latent="400")) == 1 and res["gpu"](SimpleNamespace(latent="4000")) == 4
    assert rule_resources(section("train", {"device": "cuda", "jobs_per_gpu": 1})) == {"gpu": 1}
    assert rule_resources(section("train", {"device": "auto", "jobs_per_gpu": 4})) == {}


def test_cuda_job_without_a_gpu_fails_instead_of_training_on_cpu(clean_env, tmp_path):
    clean_env.setenv("SLURM_JOB_ID", "77")
    clean_env.setenv("CUDA_VISIBLE_DEVICES", "")  # SLURM gave this job no GPU
    with pytest.raises(DeviceError, match="SLURM job 77 shows no GPU.*does not train on the CPU"):
        select_device("cuda", lock_dir=tmp_path)
    assert select_device("auto", lock_dir=tmp_path).device == "cpu"  # auto asked for no GPU: the CPU is fine


def test_slurm_gpu_is_used_as_assigned_without_locks(clean_env, tmp_path):
    import torch

    clean_env.setenv("SLURM_JOB_ID", "1234")
    clean_env.setenv("SLURM_JOB_GPUS", "3")
    clean_env.setenv("CUDA_VISIBLE_DEVICES", "0")  # SLURM numbers the job's GPU 0, in every job
    clean_env.setattr(torch.cuda, "is_available", lambda: True)
    first = select_device("cuda", lock_dir=tmp_path)
    second = select_device("cuda", lock_dir=tmp_path)  # another job on the node, also told "GPU 0"
    assert first.device == second.device == "cuda:0"
    assert first.source == "slurm" and first.lock_path is None
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    assert list(tmp_path.iterdir()) == []  # no lock files


def test_slurm_jobs_lock_in_folders_of_their_own(clean_env, tmp_path):
    """Two allocations on one node, each with GPUs numbered 0 and 1: their leases never wait on each other."""
    clean_env.setenv("BOWS_GPU_LOCK_DIR", str(tmp_path))
    dir_a = default_lock_dir({"BOWS_GPU_LOCK_DIR": str(tmp_path), "SLURM_JOB_ID": "11"})
    dir_b = default_lock_dir({"BOWS_GPU_LOCK_DIR": str(tmp_path), "SLURM_JOB_ID": "12"})
    assert dir_a != dir_b and dir_a.parent == dir_b.parent == tmp_path
    assert default_lock_dir({"BOWS_GPU_LOCK_DIR": str(tmp_path)}) == tmp_path
    a = lease_gpu(["0", "1"], lock_dir=dir_a, set_env=False)
    b = lease_gpu(["0", "1"], lock_dir=dir_b, timeout=0.1, set_env=False)
    assert a.gpu == b.gpu == "0"
    a.release()
    b.release()


def test_slurm_allocation_with_several_gpus_leases_among_them(clean_env, tmp_path):
    import torch

    clean_env.setenv("SLURM_JOB_ID", "99")
    clean_env.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    clean_env.setenv("BOWS_GPU_LOCK_DIR", str(tmp_path))
    clean_env.setattr(torch.cuda, "is_available", lambda: True)
    clean_env.setattr(devices, "_cuda_initialised", lambda: False)
    a = select_device("cuda")
    os.environ["CUDA_VISIBLE_DEVICES"] = "0,1"  # the next job of the allocation starts with the same view
    b = select_device("cuda", timeout=0.1)
    assert {a.gpu, b.gpu} == {"0", "1"} and a.source == b.source == "lease"
    assert a.lock_path.parent == tmp_path / "slurm-99"
    a.release()
    b.release()


def test_slots_fill_one_gpu_first_and_large_models_take_a_whole_gpu(clean_env, tmp_path):
    def lease(take: int, timeout: float = 0.1):
        return lease_gpu(["0", "1"], lock_dir=tmp_path, timeout=timeout, poll=0.02, set_env=False, slots=2, take=take)

    s1, s2 = lease(1), lease(1)
    assert s1.gpu == s2.gpu == "0" and s1.lock_path != s2.lock_path
    whole = lease(2)
    assert whole.gpu == "1" and whole.slots == 2
    with pytest.raises(DeviceError, match="stayed leased"):
        lease(1)
    s1.release()
    with pytest.raises(DeviceError, match="stayed leased"):
        lease(2)  # GPU 0 still has one job: no whole GPU free
    s3 = lease(1)
    assert s3.gpu == "0"
    s2.release()
    s3.release()
    assert lease(2).gpu == "0"
    whole.release()
