"""`make gpu-check`: what the training path does on this machine's GPU, in at most ~8 minutes on one GPU.

    .venv/bin/python bench/gpu_check.py [--out results/gpu_check.json] [--jobs-per-gpu 4]
    .venv/bin/python bench/gpu_check.py --device cpu --small     # the same logic at toy size on a CPU

Checks, each printed as it finishes and gathered in one JSON summary (``--out``):

* correctness: the fused loss and gradients (``bows.fast_step.recon_loss``) against the float64 dense reference, for
  relu/linear × mse/bce × latent ReLU × dense share, in fp32, TF32 and bf16: the largest relative error of each
  precision, against a bound per precision (fp32 1e-5; TF32 and bf16 5e-2);
* syncs: host-device synchronisations during training steps (``torch.cuda.set_sync_debug_mode``);
* determinism: two identical runs and a run resumed after epoch 1, bit for bit, without and with
  ``train.deterministic``, and the cost of deterministic algorithms (ms per step both ways);
* step time per latent size L: the three matrix products alone (the floor), the step with batches already on the GPU,
  and the step as training runs it (``bows.batches.batches``: loader threads, pinned copies on a side stream);
* sharing: ``--jobs-per-gpu`` processes training an L = 400 model at once on the GPU, their steps per second together
  against one alone;
* projection: the wall time of the paper's grid (presets/paper.yaml: 54 models, steps per model from its train
  windows: 1,620,431 of WikiText-103's 1,801,331 after the held-out blocks),
  one job per GPU and with ``--jobs-per-gpu`` (models with L < ``--whole-gpu-latent`` share, larger ones run alone).

Without a CUDA GPU (and no ``--device cpu``) it prints that it skipped and exits 0. Exits 1 when a correctness or
determinism check fails. Writes nothing but ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))
sys.path.insert(0, str(ROOT / "bench"))

from bows import devices, kernels  # noqa: E402
from bows.batches import TrainData, batches, epoch_order  # noqa: E402
from bows.config import load_config, model_grid  # noqa: E402
from bows.fast_step import make_batch, recon_loss  # noqa: E402
from bows.grid import ModelSpec  # noqa: E402
from bows.model import TiedAutoencoder, reference_loss  # noqa: E402
from bows.train import Trainer  # noqa: E402
from bows.train_settings import TrainSettings  # noqa: E402
from bows.windows import Windows, split_windows  # noqa: E402
from step_timing import floor_ms, set_tf32, step_fn, step_ms, sync, zipf_docs  # noqa: E402

PRECISIONS = ("fp32", "tf32", "bf16")
BOUNDS = {"fp32": 1e-5, "tf32": 5e-2, "bf16": 5e-2}  # largest relative error allowed against float64
PAPER_WINDOWS = 1_801_331  # train windows of WikiText-103 at G = 20 (paper.md)


# --------------------------------------------------------------------------------------------- correctness


def toy_batch(V: int = 300, B: int = 64, seed: int = 0) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """A multi-hot batch with Zipf-like column frequencies (some words in most rows), empty rows dropped."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(B, V, generator=g) < torch.linspace(0.9, 0.01, V)).float()
    x = x[x.sum(1) > 0]
    offsets = np.concatenate([[0], np.cumsum(x.sum(1).long().numpy())])
    return x, offsets, x.nonzero()[:, 1].numpy()


def relative_errors(
    dev: torch.device, prec: str, variant: str, loss: str, lrelu: bool, share: float, V: int = 300, L: int = 16
) -> dict[str, float]:
    """Relative max errors of the loss, ∂E and ∂b of one configuration against float64."""
    x, offsets, cols = toy_batch(V)
    g = torch.Generator().manual_seed(1)
    E0, b0 = (torch.rand(V, L, generator=g) - 0.5) * 0.5, torch.rand(V, generator=g) - 0.6
    set_tf32(dev, prec == "tf32")
    batch = make_batch(offsets, cols, V, device=dev, dense_share=share)
    E = E0.clone().to(dev).requires_grad_(True)
    b = b0.clone().to(dev).requires_grad_(True)
    value = recon_loss(E, b, batch, variant, lrelu, loss, torch.bfloat16 if prec == "bf16" else None)
    value.backward()
    set_tf32(dev, False)
    E64, b64 = E0.double().requires_grad_(True), b0.double().requires_grad_(True)
    ref = reference_loss(E64.t(), b64, x.double(), variant, lrelu, loss)
    ref.backward()

    def err(a: torch.Tensor, r: torch.Tensor) -> float:
        return float((a.detach().double().cpu() - r).abs().max() / (r.abs().max() + 1e-30))

    return {"loss": err(value, ref.detach()), "dE": err(E.grad, E64.grad), "db": err(b.grad, b64.grad)}


def correctness(dev: torch.device) -> dict:
    """Largest relative error per precision over the 16 configurations, and whether it is within its bound."""
    out: dict = {}
    for prec in PRECISIONS:
        worst = 0.0
        for variant in ("relu", "linear"):
            for loss in ("mse", "bce"):
                for lrelu in (False, True):
                    for share in (0.1, 2.0):
                        worst = max(worst, *relative_errors(dev, prec, variant, loss, lrelu, share).values())
        out[prec] = {"max_rel_error": worst, "bound": BOUNDS[prec], "ok": worst <= BOUNDS[prec]}
    return out


# --------------------------------------------------------------------------------------------- data


def paper_windows(V: int, docs: int) -> Windows:
    """WikiText-shaped windows (≈ 338 distinct ids per window of G = 20 at V = 10,000, train_step.zipf_docs)."""
    return Windows(zipf_docs(docs, V, 338.0 * V / 10_000, 20, np.random.default_rng(0)), 20)


# --------------------------------------------------------------------------------------------- syncs


def syncs(dev: torch.device, windows: Windows, V: int, L: int = 64) -> dict:
    """Synchronisations the CUDA runtime reports during 4 training steps as ``bows.train`` runs them."""
    if dev.type != "cuda":
        return {"skipped": "not on CUDA"}
    step = step_fn(TiedAutoencoder(V, L, generator=torch.Generator().manual_seed(1)).to(dev), "fp32")
    order = epoch_order(len(windows), 1, 0)[: 6 * 512]
    total = torch.zeros((), dtype=torch.float64, device=dev)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k, batch in enumerate(batches(windows, order, 512, V, workers=2, device=dev)):
            if k == 2:
                sync(dev)
                torch.cuda.set_sync_debug_mode("warn")
            total += step(batch).double() * batch.size
        torch.cuda.set_sync_debug_mode(0)
    found = [str(w.message)[:160] for w in caught if "synchroniz" in str(w.message).lower()]
    return {"sync_warnings_in_4_steps": len(found), "kinds": sorted(set(found)), "ok": not found}


# --------------------------------------------------------------------------------------------- determinism


def _weights(
    windows: Windows,
    V: int,
    L: int,
    s: TrainSettings,
    dev: torch.device,
    ckpt: str | None = None,
    stop_after: int | None = None,
) -> torch.Tensor:
    n = len(windows)
    data = TrainData(windows, V, np.arange(int(n * 0.9)), np.arange(int(n * 0.9), n))
    t = Trainer(data, ModelSpec("relu", L, 1.0, 7), s, ckpt_dir=ckpt, device=dev)
    return t.run(until_epoch=stop_after).E.detach().cpu().clone()  # stop_after: "killed" after this many epochs


def determinism(dev: torch.device, windows: Windows, V: int, L: int, epochs: int = 2) -> dict:
    """Two runs and a resumed run, bit for bit, with ``deterministic`` off and on; ms per step of each."""
    out: dict = {}
    for det in (False, True):
        s = TrainSettings.default(
            epochs=epochs,
            batch_size=512,
            progress=False,
            device=dev.type,
            deterministic=det,
            keep_checkpoints=True,
            threads=2,
        )
        a = _weights(windows, V, L, s, dev)
        t0 = time.perf_counter()  # the second run: compiled kernels and allocator warm
        b = _weights(windows, V, L, s, dev)
        seconds = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as d:
            _weights(windows, V, L, s, dev, ckpt=d, stop_after=1)
            c = _weights(windows, V, L, s, dev, ckpt=d)
        steps = epochs * math.ceil(int(len(windows) * 0.9) / 512)
        out["deterministic" if det else "default"] = {
            "two_runs_bitwise_equal": bool(torch.equal(a, b)),
            "two_runs_max_abs_diff": float((a - b).abs().max()),
            "resume_bitwise_equal": bool(torch.equal(a, c)),
            "resume_max_abs_diff": float((a - c).abs().max()),
            "ms_per_step_with_eval": round(seconds / steps * 1e3, 3),
        }
    devices.set_determinism(False)
    d = out["deterministic"]
    out["ok"] = d["two_runs_bitwise_equal"] and d["resume_bitwise_equal"]
    out["deterministic_cost"] = round(d["ms_per_step_with_eval"] / out["default"]["ms_per_step_with_eval"], 3)
    return out


# --------------------------------------------------------------------------------------------- step times


def step_times(dev: torch.device, windows: Windows, V: int, latents: list[int], steps: int, workers: int) -> dict:
    out: dict = {}
    for prec in PRECISIONS:
        for L in latents:
            if prec != "fp32" and L < 1000:
                continue
            row = step_ms(dev, windows, V, L, prec, steps, workers)
            row["floor_ms"] = round(floor_ms(dev, V, L, prec), 3)
            row["as_trained_over_floor"] = round(row["as_trained_ms"] / row["floor_ms"], 2)
            out[f"L{L}/{prec}"] = row
            if dev.type == "cuda":
                torch.cuda.empty_cache()
    return out


# --------------------------------------------------------------------------------------------- sharing


def worker(args: argparse.Namespace) -> None:
    """One training process of the sharing check: prints its steps per second."""
    dev = torch.device(args.device)
    windows = paper_windows(args.vocab, args.docs)
    r = step_ms(dev, windows, args.vocab, args.worker_latent, "fp32", args.steps, args.loader_threads)
    print(json.dumps({"steps_per_s": 1e3 / r["as_trained_ms"]}))


def sharing(args: argparse.Namespace, jobs: int, L: int = 400) -> dict:
    """Steps per second of ``jobs`` processes training at once on one GPU, against one alone."""

    def run(n: int) -> float:
        cmd = [
            sys.executable,
            __file__,
            "--device",
            args.device,
            "--worker-latent",
            str(L),
            "--steps",
            str(args.steps),
            "--vocab",
            str(args.vocab),
            "--docs",
            str(args.docs),
            "--loader-threads",
            str(args.loader_threads),
        ]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(n)]
        rates = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1])["steps_per_s"] for p in procs]
        return sum(rates)

    one = run(1)
    together = run(jobs) if jobs > 1 else one
    return {
        "latent": L,
        "jobs": jobs,
        "steps_per_s_one": round(one, 1),
        "steps_per_s_together": round(together, 1),
        "speedup": round(together / one, 2),
    }


# --------------------------------------------------------------------------------------------- projection


def paper_models() -> tuple[list[int], int]:
    """Latent sizes of the paper grid's models, and the steps of one model (epochs × batches of its windows)."""
    cfg = load_config(ROOT / "config.yaml", ROOT / "presets" / "paper.yaml", checked=False)
    latents = [spec.latent for spec in model_grid(cfg)]
    w = cfg["windows"]
    train, _ = split_windows(
        PAPER_WINDOWS,
        int(w["group_size"]),
        int(w["stride"]),
        float(w["heldout_fraction"]),
        int(w["heldout_blocks"]),
        int(w["seed"]),
    )
    return latents, int(cfg["train"]["epochs"]) * math.ceil(len(train) / int(cfg["train"]["batch_size"]))


def interpolate_ms(times: dict[int, float], L: int) -> float:
    """ms per step at L, log-log interpolation between measured latent sizes (flat beyond them)."""
    xs = sorted(times)
    if L <= xs[0]:
        return times[xs[0]]
    if L >= xs[-1]:
        return times[xs[-1]] * L / xs[-1]
    hi = next(x for x in xs if x >= L)
    lo = max(x for x in xs if x <= L)
    if hi == lo:
        return times[lo]
    w = math.log(L / lo) / math.log(hi / lo)
    return math.exp((1 - w) * math.log(times[lo]) + w * math.log(times[hi]))


def projection(times: dict[int, float], speedup: float, jobs: int, whole_gpu_latent: int) -> dict:
    """Hours for the paper grid on one GPU: jobs one after another; and small models sharing the GPU ``jobs`` at a
    time at the measured ``speedup`` (large ones alone)."""
    latents, steps = paper_models()
    seconds = {L: interpolate_ms(times, L) * steps / 1e3 for L in set(latents)}
    alone = sum(seconds[L] for L in latents)
    small = sum(seconds[L] for L in latents if L < whole_gpu_latent)
    shared = alone - small + (small / speedup if jobs > 1 else small)
    return {
        "models": len(latents),
        "steps_per_model": steps,
        "hours_one_job_per_gpu": round(alone / 3600, 2),
        f"hours_{jobs}_jobs_per_gpu": round(shared / 3600, 2),
        "whole_gpu_latent": whole_gpu_latent,
    }


# --------------------------------------------------------------------------------------------- main


def skip_reason(device: str) -> str | None:
    if device == "cuda" and not torch.cuda.is_available():
        return f"no CUDA GPU (torch {torch.__version__}, CUDA {torch.version.cuda})"
    return None


def stage(summary: dict, name: str, fn) -> None:
    t0 = time.perf_counter()
    try:
        summary[name] = fn()
    except Exception as err:  # report and go on: one failing check must not hide the others
        summary[name] = {"error": f"{type(err).__name__}: {err}"[:500], "ok": False}
    print(f"== {name} ({time.perf_counter() - t0:.1f} s)\n{json.dumps(summary[name], indent=1)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--small", action="store_true", help="toy sizes (a logic check, e.g. on a CPU)")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON summary here")
    ap.add_argument("--jobs-per-gpu", type=int, default=4)
    ap.add_argument("--whole-gpu-latent", type=int, default=2000)
    ap.add_argument("--loader-threads", type=int, default=4)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--vocab", type=int, default=10_000)
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--worker-latent", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.small:
        args.vocab, args.docs, args.steps = 1000, 1500, 6
    torch.set_num_threads(2)
    kernels.set_threads(args.loader_threads)
    if args.worker_latent:
        worker(args)
        return 0
    reason = skip_reason(args.device)
    if reason:
        print(f"gpu-check: skipped ({reason}); nothing to measure on this machine")
        if args.out:
            args.out.write_text(json.dumps({"skipped": reason}) + "\n")
        return 0
    return run_checks(args)


def run_checks(args: argparse.Namespace) -> int:
    dev = torch.device(args.device)
    t_start = time.perf_counter()
    summary: dict = {"device": devices.device_facts(dev), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    windows = paper_windows(args.vocab, args.docs)
    latents = [50, 200] if args.small else [50, 400, 1000, 4000, 10000]
    stage(summary, "correctness", lambda: correctness(dev))
    stage(summary, "syncs", lambda: syncs(dev, windows, args.vocab))
    stage(summary, "determinism", lambda: determinism(dev, windows, args.vocab, 16 if args.small else 256))
    stage(summary, "step_times", lambda: step_times(dev, windows, args.vocab, latents, args.steps, args.loader_threads))
    stage(summary, "sharing", lambda: sharing(args, 1 if args.small else args.jobs_per_gpu))
    trained = {
        int(k[1:].split("/")[0]): v["as_trained_ms"]
        for k, v in summary["step_times"].items()
        if k.endswith("/fp32") and "as_trained_ms" in v
    }
    speedup = summary["sharing"].get("speedup", 1.0) if isinstance(summary["sharing"], dict) else 1.0
    stage(summary, "projection", lambda: projection(trained, speedup, args.jobs_per_gpu, args.whole_gpu_latent))
    summary["seconds"] = round(time.perf_counter() - t_start, 1)
    failed = [k for k in ("correctness", "determinism") if not _ok(summary[k])]
    failed += [k for k, v in summary.items() if isinstance(v, dict) and "error" in v and k not in failed]
    summary["failed"] = failed
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"gpu-check: {'FAILED ' + ', '.join(failed) if failed else 'all checks passed'} in {summary['seconds']} s")
    return 1 if failed else 0


def _ok(result: dict) -> bool:
    if "ok" in result:
        return bool(result["ok"])
    return all(v.get("ok", True) for v in result.values() if isinstance(v, dict))


if __name__ == "__main__":
    sys.exit(main())
