"""Cost of one training step, against its floor and against the official implementation's step.

    .venv/bin/python bench/train_step.py [--rounds 10] [--threads 2] [--batch 512] [--latent 1000] [--vocab 10000]
    .venv/bin/python bench/train_step.py --device cuda [--latent 400] [--loader-threads 4] [--steps 200]

Four measurements, interleaved round by round so that a shared machine's load hits all of them alike:

* floor: the three dense products every exact step needs (decoder z = h Eᵀ, ∂h = G E, ∂E = Gᵀ h), into reused
  outputs, nothing else;
* ours: the bows step as training runs it (``bows.train``; ``step_timing.step_fn``): the next batch is built from
  the virtual windows (``Windows.batch_csr`` → ``make_batch``) in the loader thread while the current one trains
  (encoder → dense decoder → fused MSE and gradient → AdamW → cosine scheduler); a step also counts any wait for
  its batch;
* ours_inline: the same with the batch built inline, before the step, on the step's thread;
* official-style: the published step re-implemented from its description (paper.md §4, §12.9): the encoder weight
  stored as ``nn.Linear`` stores it (W [L, V], row-major), a DataLoader over materialised windows whose items are
  Python lists, per-sample tensors in the collate, a sparse COO batch built and coalesced in the encoder
  (sparse × Wᵀ) and again for the dense target, ``F.linear`` decoder, autograd MSE, AdamW in PyTorch's default CPU
  implementation, cosine scheduler, ``loss.item()``.

With ``--device cuda`` (batch 512): the floor (the three products on the GPU), the step with batches already on the
GPU, and the step as training runs it (``bows.batches.batches``: loader threads, pinned copies on a side stream), each
over ``--steps`` steps timed between two synchronisations, one after the other in the same run (bench/gpu_check.py
does the same per L; target on one H200 at L ≤ 1,000: ≤ 1.5 ms per step as trained).

Data are WikiText-shaped: documents drawn so that a window of G = 20 of them holds about 338 distinct ids (the
paper's G = 20 at V = 10,000), Zipfian over the vocabulary. Prints the median ms/step of each, the ratios to the
floor and official/ours (median, best round, and process CPU time), and the machine's load average (the ratios are
noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bows import kernels  # noqa: E402
from bows.batches import build_batch, epoch_order  # noqa: E402
from bows.model import TiedAutoencoder  # noqa: E402
from bows.windows import Windows  # noqa: E402
from step_timing import floor_ms, step_fn, step_ms, zipf_docs  # noqa: E402


class _OfficialWindows(torch.utils.data.Dataset):
    """Materialised windows (int64 values + offsets); an item is a Python list of ids, as the official dataset's."""

    def __init__(self, offsets: np.ndarray, values: np.ndarray):
        self.offsets, self.values = offsets, values

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> list[int]:
        return self.values[int(self.offsets[i]) : int(self.offsets[i + 1])].astype(np.int64).tolist()


def _official_collate(samples: list[list[int]]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Empty windows dropped, one tensor per window, and the windows' lengths."""
    samples = [s for s in samples if s]
    return [torch.as_tensor(s, dtype=torch.long) for s in samples], torch.tensor([len(s) for s in samples])


def _official_coo(xs: list[torch.Tensor], counts: torch.Tensor, V: int) -> torch.Tensor:
    """The batch as a coalesced sparse COO tensor of ones, built from the per-window tensors."""
    rows = torch.repeat_interleave(torch.arange(len(xs)), counts)
    idx = torch.stack([rows, torch.cat(xs)])
    ones = torch.ones(idx.shape[1], dtype=torch.float32)
    return torch.sparse_coo_tensor(idx, ones, (len(xs), V), check_invariants=False).coalesce()


def official_style_step(W, b, opt, sched, batch: tuple[list[torch.Tensor], torch.Tensor], V: int) -> float:
    """One step as the official code does it (re-implemented from the paper's description, §4 and §12.9)."""
    xs, counts = batch
    opt.zero_grad(set_to_none=True)
    h = torch.sparse.mm(_official_coo(xs, counts, V), W.t())  # encoder: COO built and coalesced (#1)
    y = torch.relu(F.linear(h, W.t(), b))  # tied decoder
    target = _official_coo(xs, counts, V).to_dense()  # dense target: built and coalesced (#2)
    loss = F.mse_loss(y, target)
    loss.backward()
    opt.step()
    sched.step()
    return loss.item()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--latent", type=int, default=1000)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--mean-ids", type=float, default=338.0, help="mean distinct ids per window")
    ap.add_argument("--group", type=int, default=20, help="documents per window (G)")
    ap.add_argument("--docs", type=int, default=20000, help="documents drawn (windows: docs − G + 1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10, help="timed rounds (each: 1 step of every kind)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--no-official", action="store_true", help="skip the (slow) official-style step")
    ap.add_argument("--json", type=str, default=None, help="also write the numbers to this JSON file")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--loader-threads", type=int, default=4, help="--device cuda: batch-building threads")
    ap.add_argument("--steps", type=int, default=200, help="--device cuda: steps timed per measurement")
    args = ap.parse_args(argv)
    if args.device == "cuda":
        return cuda_main(args, ap)

    torch.set_num_threads(args.threads)
    kernels.set_threads(args.threads)
    B, L, V = args.batch, args.latent, args.vocab
    windows = Windows(zipf_docs(args.docs, V, args.mean_ids, args.group, np.random.default_rng(0)), args.group)
    order = epoch_order(len(windows), seed=1, epoch=0)
    n_batches = len(order) // B
    if n_batches < 2:
        ap.error(f"--docs {args.docs} gives {len(windows)} windows, fewer than two batches of {B}")

    def idx(k: int) -> np.ndarray:
        k %= n_batches
        return order[k * B : (k + 1) * B]

    offsets_all, _ = windows.batch_csr(order[: 8 * B])
    mean_ids = float(offsets_all[-1] / (len(offsets_all) - 1))

    # ours: the training step with its loader thread (bows.batches.batches does the same)
    model = TiedAutoencoder(V, L, generator=torch.Generator().manual_seed(1))
    step = step_fn(model, total_steps=10_000)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bows-batches")
    pending = pool.submit(build_batch, windows, idx(0), V)
    waits: list[float] = []

    def ours(k: int) -> None:
        nonlocal pending
        batch = pending.result()
        pending = pool.submit(build_batch, windows, idx(k + 1), V)
        step(batch)

    def ours_settle() -> float:
        """Wait for the loader (untimed, so it never overlaps another kind) and return the wait: time a training
        step would have waited for its batch, added to ours."""
        t0 = time.perf_counter()
        pending.result()
        return time.perf_counter() - t0

    def ours_inline(k: int) -> None:
        step(build_batch(windows, idx(k), V))

    # floor: the three dense products of an exact step, on the same shapes, into reused outputs (as our step)
    h = torch.randn(B, L)
    G = torch.randn(B, V)
    E = torch.randn(V, L)
    z_out, dh_out, dE_out = torch.empty(B, V), torch.empty(B, L), torch.empty(V, L)

    def floor(k: int) -> None:
        torch.mm(h, E.t(), out=z_out)
        torch.mm(G, E, out=dh_out)
        torch.mm(G.t(), h, out=dE_out)

    # official-style: W [L, V] row-major (nn.Linear's weight), materialised windows, DataLoader with shuffle
    W_off = torch.nn.Parameter(model.W.detach().contiguous().clone())
    b_off = torch.nn.Parameter(torch.zeros(V))
    opt_off = torch.optim.AdamW([W_off, b_off], lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1.0)
    sched_off = torch.optim.lr_scheduler.CosineAnnealingLR(opt_off, T_max=10_000, eta_min=0.0)
    offs_off, vals_off = windows.batch_csr(np.arange(len(windows)))
    loader = torch.utils.data.DataLoader(
        _OfficialWindows(offs_off, vals_off),
        batch_size=B,
        shuffle=True,
        num_workers=0,
        collate_fn=_official_collate,
        generator=torch.Generator().manual_seed(1),
    )
    batches_off = iter(())

    def official(k: int) -> None:
        nonlocal batches_off
        try:
            batch = next(batches_off)
        except StopIteration:
            batches_off = iter(loader)
            batch = next(batches_off)
        official_style_step(W_off, b_off, opt_off, sched_off, batch, V)

    kinds = {"ours": ours, "ours_inline": ours_inline, "floor": floor}
    if not args.no_official:
        kinds["official"] = official
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for r in range(args.warmup + args.rounds):
        for name, fn in kinds.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn(r)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if name == "ours":  # the loader's batch for the next step: its CPU time, and any wait, count as ours
                wait = ours_settle()
                dt, dc = dt + wait, time.process_time() - c0
                if r >= args.warmup:
                    waits.append(wait)
            if r >= args.warmup:
                times[name].append(dt)
                cpu[name].append(dc)
    pool.shutdown()
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    cpu_med = {k: statistics.median(v) * 1e3 for k, v in cpu.items()}
    spread = {k: (min(v) * 1e3, max(v) * 1e3) for k, v in times.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out = {
        "shape": {
            "B": B,
            "L": L,
            "V": V,
            "G": args.group,
            "mean_ids_per_window": round(mean_ids, 1),
            "dtype": "fp32",
            "threads": args.threads,
        },
        "rounds": args.rounds,
        "ms_per_step_median": {k: round(v, 1) for k, v in med.items()},
        "ms_per_step_min_max": {k: [round(a, 1), round(b, 1)] for k, (a, b) in spread.items()},
        "cpu_ms_per_step_median": {k: round(v, 1) for k, v in cpu_med.items()},
        "ours_loader_wait_ms_median": round(statistics.median(waits) * 1e3, 2),
        "ours_over_floor": round(med["ours"] / med["floor"], 3),
        "ours_over_floor_best": round(min(times["ours"]) / min(times["floor"]), 3),
        "ours_over_floor_cpu": round(cpu_med["ours"] / cpu_med["floor"], 3),
        "ours_inline_over_floor": round(med["ours_inline"] / med["floor"], 3),
        "load_average_1min": load,
        "machine": f"{platform.machine()} {platform.processor() or ''} {torch.get_num_threads()} threads".strip(),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if "official" in med:
        out["official_over_ours"] = round(med["official"] / med["ours"], 3)
        out["official_over_floor"] = round(med["official"] / med["floor"], 3)
        out["official_over_ours_best"] = round(min(times["official"]) / min(times["ours"]), 3)
        out["official_over_ours_cpu"] = round(cpu_med["official"] / cpu_med["ours"], 3)
    for k in kinds:
        print(
            f"{k:>11}: {med[k]:8.1f} ms/step (median of {args.rounds}; min {spread[k][0]:.1f}, max {spread[k][1]:.1f})"
        )
    print(
        f"ours / floor        = {out['ours_over_floor']:.2f}x median, {out['ours_over_floor_best']:.2f}x best, "
        f"{out['ours_over_floor_cpu']:.2f}x CPU time   (target ≤ 1.3)"
    )
    print(f"ours_inline / floor = {out['ours_inline_over_floor']:.2f}x median")
    if "official" in med:
        print(
            f"official / ours     = {out['official_over_ours']:.2f}x median, "
            f"{out['official_over_ours_best']:.2f}x best, {out['official_over_ours_cpu']:.2f}x CPU time"
            f"   (target ≥ 3.5)"
        )
        print(f"official / floor    = {out['official_over_floor']:.2f}x")
    if load is not None and load > args.threads:
        print(f"note: 1-min load average {load:.1f} on {os.cpu_count()} CPUs: the machine is shared, ratios are noisy")
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return out


def cuda_main(args: argparse.Namespace, ap: argparse.ArgumentParser) -> dict:
    """The step on a CUDA GPU as training runs it, against the matrix-product floor measured in the same run."""
    if not torch.cuda.is_available():
        ap.error(f"--device cuda: torch {torch.__version__} sees no CUDA GPU")
    if args.batch != 512:
        ap.error("--device cuda measures batches of 512 (the paper's)")
    dev = torch.device("cuda")
    torch.set_num_threads(args.threads)
    kernels.set_threads(args.loader_threads)
    windows = Windows(zipf_docs(args.docs, args.vocab, args.mean_ids, args.group, np.random.default_rng(0)), args.group)
    row = step_ms(dev, windows, args.vocab, args.latent, "fp32", args.steps, args.loader_threads)
    row["floor_ms"] = round(floor_ms(dev, args.vocab, args.latent, "fp32"), 3)
    out = {
        "shape": {"B": 512, "L": args.latent, "V": args.vocab, "G": args.group, "dtype": "fp32"},
        "device": torch.cuda.get_device_name(dev),
        "loader_threads": args.loader_threads,
        "steps": args.steps,
        **row,
        "as_trained_over_floor": round(row["as_trained_ms"] / row["floor_ms"], 2),
        "device_batches_over_floor": round(row["device_batches_ms"] / row["floor_ms"], 2),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(
        f"floor {row['floor_ms']:.3f} ms, batches on the GPU {row['device_batches_ms']:.3f} ms, as trained "
        f"{row['as_trained_ms']:.3f} ms per step ({out['as_trained_over_floor']:.2f}x the floor; target ≤ 1.5 ms "
        f"at L ≤ 1,000 on an H200)"
    )
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
