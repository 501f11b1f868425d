"""Cost of one training step, against its floor and against the official implementation's step.

    .venv/bin/python bench/train_step.py [--rounds 8] [--threads 2] [--batch 512] [--latent 1000] [--vocab 10000]

Four measurements, interleaved round by round so that a shared machine's load hits all of them alike:

* floor: the three dense products every exact step needs (decoder z = h Eᵀ, ∂h = G E, ∂E = Gᵀ h), into reused
  outputs, nothing else;
* ours: the whole bows step (index arrays of the CSR batch → encoder → dense decoder → fused MSE and gradient →
  AdamW → cosine scheduler), with the batch's index arrays built inline and counted;
* ours_step: the same with the index arrays built beforehand, as in training (``bows.train`` builds them in its
  loader thread while the previous step runs);
* official-style: the published step re-implemented from its description (a DataLoader over per-window Python lists,
  per-sample tensors in the collate, a sparse COO batch coalesced twice, sparse×dense encoder, ``to_dense`` target,
  autograd MSE, AdamW in PyTorch's default CPU implementation).

Windows are WikiText-shaped: about 338 distinct ids per window (the paper's G = 20 at V = 10,000), Zipfian over the
vocabulary. Prints the median ms/step of each, the ratios to the floor and official/ours (median, best round, and
process CPU time), and the machine's load average (the ratios are noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from bows.model import DENSE_SHARE, TiedAutoencoder, make_batch  # noqa: E402
from bows.train import make_optimizer, make_scheduler  # noqa: E402


def zipf_windows(n: int, vocab: int, mean_ids: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """CSR (offsets, cols) of ``n`` windows; word w is present with probability min(1, c/(w+10)), c set so that a
    window holds ``mean_ids`` distinct ids on average."""
    rank = np.arange(vocab, dtype=np.float64)
    lo, hi = 1e-6, 1e6
    for _ in range(100):  # bisection on c
        c = (lo * hi) ** 0.5
        if np.minimum(1.0, c / (rank + 10)).sum() > mean_ids:
            hi = c
        else:
            lo = c
    p = np.minimum(1.0, c / (rank + 10))
    x = rng.random((n, vocab)) < p
    counts = x.sum(1)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    cols = np.nonzero(x)[1].astype(np.int64)
    return offsets, cols


class _OfficialWindows(torch.utils.data.Dataset):
    """Windows stored as flat int64 values + offsets; __getitem__ returns a Python list (as the official code)."""

    def __init__(self, offsets: np.ndarray, values: np.ndarray):
        self.offsets, self.values = offsets, values

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> list[int]:
        return self.values[self.offsets[i]:self.offsets[i + 1]].tolist()


def _official_collate(samples: list[list[int]]) -> tuple[torch.Tensor, int]:
    """Per-sample tensors, concatenated into COO indices (empty windows dropped)."""
    samples = [s for s in samples if len(s)]
    rows = [torch.full((len(s),), i, dtype=torch.long) for i, s in enumerate(samples)]
    cols = [torch.tensor(s, dtype=torch.long) for s in samples]
    return torch.stack([torch.cat(rows), torch.cat(cols)]), len(samples)


def official_style_step(W, b, opt, sched, batch: tuple[torch.Tensor, int], V: int) -> float:
    """One step as the official code does it (re-implemented from the paper's description): a sparse COO batch,
    coalesced in the encoder and again for the dense target, autograd MSE, AdamW (default CPU implementation)."""
    idx, n = batch
    x = torch.sparse_coo_tensor(idx, torch.ones(idx.shape[1]), (n, V), check_invariants=False)
    h = torch.sparse.mm(x.coalesce(), W.t())               # encode: coalesce #1
    y = torch.relu(h @ W + b)
    target = x.coalesce().to_dense()                        # dense_target: coalesce #2
    loss = torch.nn.functional.mse_loss(y, target)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    return float(loss.detach())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--latent", type=int, default=1000)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--mean-ids", type=float, default=338.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=8, help="timed rounds (each: 1 step of every kind)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--dense-share", type=float, default=DENSE_SHARE,
                    help="words in at least this share of the windows go through the dense block (>1: none)")
    ap.add_argument("--no-official", action="store_true", help="skip the (slow) official-style step")
    ap.add_argument("--json", type=str, default=None, help="also write the numbers to this JSON file")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    B, L, V = args.batch, args.latent, args.vocab
    rng = np.random.default_rng(0)
    n_batches = 4
    csr = [zipf_windows(B, V, args.mean_ids, rng) for _ in range(n_batches)]
    mean_ids = float(np.mean([(o[-1]) / B for o, _ in csr]))

    # ours
    gen = torch.Generator().manual_seed(1)
    model = TiedAutoencoder(V, L, generator=gen)
    opt = make_optimizer(model, lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1.0, decay_bias=True)
    sched = make_scheduler(opt, total_steps=10_000)

    def ours(k: int) -> None:
        offsets, cols = csr[k % n_batches]
        batch = make_batch(offsets, cols, V, dense_share=args.dense_share)
        model.loss_and_grad(batch)
        opt.step()
        sched.step()

    # floor: the three dense products of an exact step, on the same shapes
    h = torch.randn(B, L)
    G = torch.randn(B, V)
    E = torch.randn(V, L)
    z_out, dh_out, dE_out = torch.empty(B, V), torch.empty(B, L), torch.empty(V, L)

    def floor(k: int) -> None:  # into reused outputs, as our step does (fresh 40 MB buffers would add page faults)
        torch.mm(h, E.t(), out=z_out)
        torch.mm(G, E, out=dh_out)
        torch.mm(G.t(), h, out=dE_out)

    # official-style
    W_off = torch.nn.Parameter(model.W.detach().clone())
    b_off = torch.nn.Parameter(torch.zeros(V))
    opt_off = torch.optim.AdamW([W_off, b_off], lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1.0)
    sched_off = torch.optim.lr_scheduler.CosineAnnealingLR(opt_off, T_max=10_000, eta_min=0.0)
    # the official input path: a DataLoader (shuffle, num_workers=0) over per-window lists, collated per batch
    offs = np.concatenate([[0], np.cumsum([o[-1] for o, _ in csr])])
    flat_offsets = np.concatenate([o[:-1] + offs[k] for k, (o, _) in enumerate(csr)] + [[offs[-1]]])
    values = np.concatenate([c for _, c in csr]).astype(np.int64)
    loader = torch.utils.data.DataLoader(_OfficialWindows(flat_offsets, values), batch_size=B, shuffle=True,
                                         num_workers=0, collate_fn=_official_collate)
    batches_off = iter(())

    def official(k: int) -> None:
        nonlocal batches_off
        try:
            batch = next(batches_off)
        except StopIteration:
            batches_off = iter(loader)
            batch = next(batches_off)
        official_style_step(W_off, b_off, opt_off, sched_off, batch, V)

    prepared = [make_batch(o, c, V, dense_share=args.dense_share) for o, c in csr]

    def ours_step(k: int) -> None:  # the same step with the index arrays built beforehand (the loader thread's job)
        model.loss_and_grad(prepared[k % n_batches])
        opt.step()
        sched.step()

    kinds = {"ours": ours, "ours_step": ours_step, "floor": floor}
    if not args.no_official:
        kinds["official"] = official
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for r in range(args.warmup + args.rounds):
        for name, fn in kinds.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn(r)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if r >= args.warmup:
                times[name].append(dt)
                cpu[name].append(dc)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    cpu_med = {k: statistics.median(v) * 1e3 for k, v in cpu.items()}
    spread = {k: (min(v) * 1e3, max(v) * 1e3) for k, v in times.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out = {
        "shape": {"B": B, "L": L, "V": V, "mean_ids_per_window": round(mean_ids, 1), "dtype": "fp32",
                  "threads": args.threads},
        "rounds": args.rounds,
        "ms_per_step_median": {k: round(v, 1) for k, v in med.items()},
        "ms_per_step_min_max": {k: [round(a, 1), round(b, 1)] for k, (a, b) in spread.items()},
        "cpu_ms_per_step_median": {k: round(v, 1) for k, v in cpu_med.items()},
        "ours_over_floor": round(med["ours"] / med["floor"], 3),
        "ours_over_floor_best": round(min(times["ours"]) / min(times["floor"]), 3),
        "ours_over_floor_cpu": round(cpu_med["ours"] / cpu_med["floor"], 3),
        "ours_step_over_floor": round(med["ours_step"] / med["floor"], 3),
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
        print(f"{k:>9}: {med[k]:8.1f} ms/step (median of {args.rounds}; min {spread[k][0]:.1f}, "
              f"max {spread[k][1]:.1f})")
    print(f"ours / floor     = {out['ours_over_floor']:.2f}x median, {out['ours_over_floor_best']:.2f}x best, "
          f"{out['ours_over_floor_cpu']:.2f}x CPU time   (target ≤ 1.3)")
    print(f"ours (batch indices from the loader thread) / floor = {out['ours_step_over_floor']:.2f}x median")
    if "official" in med:
        print(f"official / ours  = {out['official_over_ours']:.2f}x median, {out['official_over_ours_best']:.2f}x best, "
              f"{out['official_over_ours_cpu']:.2f}x CPU time   (target ≥ 3.5)")
        print(f"official / floor = {out['official_over_floor']:.2f}x")
    if load is not None and load > args.threads:
        print(f"note: 1-min load average {load:.1f} on {os.cpu_count()} CPUs: the machine is shared, ratios are noisy")
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
