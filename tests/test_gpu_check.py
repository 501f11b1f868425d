"""`make gpu-check` (bench/gpu_check.py) where no GPU is: it says so and exits 0; its projection arithmetic."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import gpu_check  # noqa: E402


def test_skips_cleanly_without_a_gpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # no GPU visible, even on a GPU machine
    res = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "gpu-check: skipped" in res.stdout
    assert "no CUDA GPU" in json.loads(out.read_text())["skipped"]


def test_interpolation_is_log_log():
    times = {100: 1.0, 1000: 10.0}
    assert gpu_check.interpolate_ms(times, 100) == 1.0
    assert gpu_check.interpolate_ms(times, 316) == pytest.approx(3.16, rel=1e-3)  # 10^(log10 316 - 2)
    assert gpu_check.interpolate_ms(times, 50) == 1.0  # flat below the smallest measured L
    assert gpu_check.interpolate_ms(times, 4000) == 40.0  # proportional to L above the largest


def test_paper_grid_projection():
    latents, steps = gpu_check.paper_models()
    assert len(latents) == 54
    assert steps == 10 * 3165  # 10 epochs × ⌈1,620,431 / 512⌉: the train windows a WikiText-103-sized run reported
    assert sum(L < 2000 for L in latents) == 42
    flat = {50: 1.0, 10000: 1.0}  # 1 ms per step at every L
    p = gpu_check.projection(flat, speedup=2.0, jobs=4, whole_gpu_latent=2000)
    assert p["hours_one_job_per_gpu"] == round(54 * steps / 1e3 / 3600, 2)
    assert p["hours_4_jobs_per_gpu"] == round((12 + 42 / 2) * steps / 1e3 / 3600, 2)
