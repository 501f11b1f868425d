"""The training path on a CUDA GPU at test size: the checks of ``make gpu-check`` (bench/gpu_check.py), asserted.

Marked ``cuda`` and skipped where torch sees no CUDA GPU (run them alone with ``pytest -m cuda``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import gpu_check  # noqa: E402

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch sees none)"),
]

DEV = torch.device("cuda")
V = 1000


@pytest.fixture(scope="module")
def windows():
    return gpu_check.paper_windows(V, 1500)


@pytest.mark.parametrize("prec", gpu_check.PRECISIONS)
def test_fused_step_matches_float64_reference(prec):
    for variant in ("relu", "linear"):
        for loss in ("mse", "bce"):
            errs = gpu_check.relative_errors(DEV, prec, variant, loss, lrelu=False, share=0.1)
            assert max(errs.values()) <= gpu_check.BOUNDS[prec], (variant, loss, errs)


def test_training_steps_do_not_synchronise(windows):
    res = gpu_check.syncs(DEV, windows, V)
    assert res["sync_warnings_in_4_steps"] == 0, res["kinds"]


def test_deterministic_runs_and_resume_are_bit_identical(windows):
    res = gpu_check.determinism(DEV, windows, V, L=16, epochs=2)
    assert res["deterministic"]["two_runs_bitwise_equal"], res
    assert res["deterministic"]["resume_bitwise_equal"], res


def test_loader_delivers_the_same_batches_on_the_gpu(windows):
    from bows.batches import batches

    idx = np.arange(len(windows))[:2048]
    on_cpu = list(batches(windows, idx, 512, V))
    on_gpu = list(batches(windows, idx, 512, V, workers=3, device=DEV))
    for a, b in zip(on_cpu, on_gpu, strict=True):
        assert b.cols.device.type == "cuda"
        assert torch.equal(a.cols, b.cols.cpu()) and torch.equal(a.offsets, b.offsets.cpu())


def test_step_times_are_measured(windows):
    row = gpu_check.step_ms(DEV, windows, V, 50, "fp32", steps=5, workers=2)
    assert row["device_batches_ms"] > 0 and row["as_trained_ms"] > 0
