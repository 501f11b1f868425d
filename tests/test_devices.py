"""Device choice and GPU leases (with pretend GPUs: the lease logic needs no CUDA)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bows import devices
from bows.devices import DeviceError, lease_gpu, select_device, visible_gpus, wants_gpu

ROOT = Path(__file__).resolve().parents[1]


_LEASE_VARS = ("BOWS_FAKE_GPUS", "CUDA_VISIBLE_DEVICES", "BOWS_GPU_LOCK_DIR")


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
        sys.path.insert(0, {str(ROOT / 'workflow')!r})
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
    with pytest.raises(DeviceError, match="no GPU is visible"):
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
    with pytest.raises(DeviceError, match="no CUDA support"):
        select_device("cuda", lock_dir=tmp_path)
    # the lease was given back on failure
    lease = lease_gpu(["0"], lock_dir=tmp_path, timeout=0.1, set_env=False)
    lease.release()


def test_rule_requests_a_gpu_when_training_on_cuda(tmp_path):
    cfg = tmp_path / "cuda.yaml"
    cfg.write_text("train:\n  device: cuda\n  gpu_model: a100\n")
    env = {**os.environ, "BOWS_FAKE_GPUS": "0"}
    out = subprocess.run([str(Path(sys.executable).parent / "snakemake"), "-s", str(ROOT / "Snakefile"), "-d",
                          str(tmp_path / "wd"), "-n", "--configfile", str(ROOT / "presets" / "smoke.yaml"),
                          str(cfg), "--", "train"], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout + out.stderr
    blocks = [b for b in text.split("rule ") if b.startswith("train_model:")]
    assert blocks and all("gpu=1" in b and "gpu_model=a100" in b for b in blocks), text[-3000:]
