"""The SAE stage's steps as functions of files (each called by one workflow rule).

    make_activations  model.pt + docs + window index → activations.npz (h_train, h_heldout, words, frequency)
                      + activations.json (true L0, sample counts, word set)
    train_sweep       activations.npz → saes.pt of one architecture (every width × sparsity; tensors only) +
                      history.json (per-SAE epochs, held-out EV and L0, seconds)
    score_model       activations.npz + every saes.pt → scores, words, hedging tables (parquet + CSV)
    summarise         every model's tables → scores/hedging tables, summary.json, claims (parquet, CSV, HTML)
    draw_figures      the summary tables → the benchmark figure and the recovery-vs-frequency figure
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import io
from ..config import resolve_group_words
from ..errors import CheckpointError
from . import scores as sc
from .claims import claims, claims_table
from .settings import sweep

__all__ = ["make_activations", "load_activations", "train_sweep", "score_model", "summarise", "draw_figures"]

log = logging.getLogger("bows.sae")

SAE_KEYS = ["model", "architecture", "width", "sparsity"]


def _prov(sae: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"sae": dict(sae), **extra}


# --------------------------------------------------------------------------------------------------- activations

def _group_ids(vocab: pd.DataFrame, sae: Mapping[str, Any], word_groups: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Vocabulary ids of the words of every ``sae.groups`` group (words absent from the vocabulary are skipped)."""
    index = dict(zip(vocab["word"], vocab["index"]))
    out = {}
    for name in sae["groups"]:
        words = resolve_group_words(name, word_groups[name]["words"])
        out[name] = np.array([index[w] for w in words if w in index], dtype=np.int64)
    return out


def make_activations(model: str, vocab: str, docs: str, train_windows: str, sae: Mapping[str, Any], stride: int,
                     word_groups: Mapping[str, Any], out_npz: str, out_json: str) -> dict[str, Any]:
    """Rule ``sae_activations``: the ground-truth activations of one BOWS model (see :mod:`bows.sae.activations`).
    ``train_windows`` is the window index ``train_windows.npy``; ``heldout_windows.npy`` lies beside it."""
    from ..windows import load_window_split
    from ..model import load_weights
    from ..vocab import read_vocab
    from .activations import build

    W, _ = load_weights(model)
    table = read_vocab(vocab)
    groups = _group_ids(table, sae, word_groups)
    tr, ho = load_window_split(Path(train_windows).parent)
    forced = np.concatenate(list(groups.values())) if groups else np.zeros(0, np.int64)
    act = build(W, docs, tr, ho, sae, stride, forced)
    with io.atomic_path(out_npz) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, words=act["words"], frequency=act["frequency"], h_train=act["h_train"],
                 h_heldout=act["h_heldout"], truth=W[:, act["words"]].T.astype(np.float32))
    words = table.set_index("index").loc[act["words"], "word"].tolist()
    record = {"latent": int(W.shape[0]), "vocab_size": int(W.shape[1]), "n_words": len(act["words"]),
              "group_size": int(sae["group_size"]), "true_l0_train": act["true_l0_train"],
              "true_l0_heldout": act["true_l0_heldout"], "samples": act["samples"], "words": words,
              "groups": {k: [table["word"].iloc[int(i)] for i in v] for k, v in groups.items()},
              "provenance": io.provenance(_prov(sae), {"model": model, "docs": docs + ".json"})}
    io.write_json(out_json, record)
    io.write_sidecar(out_npz, _prov(sae), inputs={"model": model})
    return record


def load_activations(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an ``activations.npz`` (words, frequency, h_train, h_heldout, truth)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as err:
        raise CheckpointError(f"cannot read SAE activations {path}: {err}",
                              "delete the file and rerun `snakemake sae`") from None


# ------------------------------------------------------------------------------------------------------ training

def train_sweep(architecture: str, activations: str, sae: Mapping[str, Any], out_saes: str, out_history: str,
                device: str = "auto") -> dict[str, Any]:
    """Rule ``sae_train``: every SAE of one architecture on one model's activations, on ``device``."""
    from ..devices import select_device

    lease = select_device(device)
    import torch

    from .architectures import save_saes
    from .training import activation_scale, train_sae

    act = load_activations(activations)
    scale = activation_scale(act["h_train"])
    dev = torch.device(lease.device)
    h_tr = torch.from_numpy((act["h_train"] * scale).astype(np.float32)).to(dev)
    h_ho = torch.from_numpy((act["h_heldout"] * scale).astype(np.float32)).to(dev)
    fit = _saelens_fit if sae["backend"] == "saelens" else train_sae
    saes, history = {}, {}
    for i, spec in enumerate(sweep(sae, architecture)):
        saes[spec.name], history[spec.name] = fit(spec, h_tr, h_ho, sae, seed=int(sae["seed"]) + i)
    meta = {"architecture": architecture, "device": lease.describe(), "latent": int(h_tr.shape[1]),
            "backend": sae["backend"]}
    save_saes(out_saes, saes, scale, meta)
    io.write_sidecar(out_saes, _prov(sae), inputs={"activations": activations})
    record = {**meta, "scale": scale, "saes": history, "seconds": sum(h["seconds"] for h in history.values()),
              "provenance": io.provenance(_prov(sae), {"activations": activations}, lease=lease.record())}
    io.write_json(out_history, record)
    lease.release()
    return record


def _saelens_fit(spec, h_train, h_heldout, sae_cfg: Mapping[str, Any], seed: int):
    """``sae.backend: saelens``: SAELens' SAE and trainer, converted to this package's class (same history keys)."""
    import time

    from .saelens import to_bows, train
    from .training import evaluate

    t0 = time.perf_counter()
    theirs = train(spec, h_train, float(sae_cfg["lr"]), int(sae_cfg["batch_size"]), int(sae_cfg["epochs"]), seed)
    ours = to_bows(spec, theirs.cpu())
    ev = evaluate(ours, h_heldout.cpu())
    return ours, {"epoch": [int(sae_cfg["epochs"])], "heldout_explained_variance": [ev["explained_variance"]],
                  "heldout_l0": [ev["l0"]], "seconds": time.perf_counter() - t0, "backend": "saelens"}


# ------------------------------------------------------------------------------------------------------- scoring

def _sae_rows(model: str, name: str, sae_obj: Any, C: np.ndarray, ev: Mapping[str, Any], latent: int
              ) -> list[dict[str, Any]]:
    spec = sae_obj.spec
    m = sc.mcc(C)
    best = sc.best_recovery(C)
    values = {"mcc": m["mcc"], "coverage": m["coverage"], "best_recovery_mean": float(best.mean()),
              "chance_best_cos": sc.chance_best_cos(latent, spec.width),
              "explained_variance": ev["explained_variance"], "l0": ev["l0"],
              "dead_fraction": sc.dead_fraction(ev["fires"]), "dead_latents": float(np.sum(ev["fires"] == 0))}
    key = {"model": model, "architecture": spec.architecture, "width": spec.width, "sparsity": spec.sparsity}
    return [{**key, "metric": k, "value": float(v)} for k, v in values.items()]


def _truth_rows(model: str, truth: np.ndarray, members: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """The ground truth scored against itself (MCC 1) and its hedging baseline, as architecture ``ground_truth``."""
    key = {"model": model, "architecture": "ground_truth", "width": truth.shape[0], "sparsity": float("nan")}
    rows = [{**key, "group": g, "metric": k, "value": v}
            for g, mem in members.items() for k, v in sc.hedging(truth, truth, mem).items()]
    return rows


def score_model(model: str, activations: str, activations_json: str, saes: Sequence[str], sae: Mapping[str, Any],
                out_scores: str, out_words: str, out_hedging: str) -> pd.DataFrame:
    """Rule ``sae_scores``: score every SAE of one model against its word directions."""
    import torch

    from .architectures import load_saes
    from .training import evaluate

    act = load_activations(activations)
    rec = io.read_json(activations_json)
    truth, words = act["truth"].astype(np.float64), act["words"]
    word_names = rec["words"]
    pos = {w: i for i, w in enumerate(word_names)}
    members = {g: np.array([pos[w] for w in ws if w in pos], dtype=np.int64) for g, ws in rec["groups"].items()}
    truth_self = sc.mcc(sc.abs_cos(truth, truth))["mcc"]
    rows = [{"model": model, "architecture": "ground_truth", "width": truth.shape[0], "sparsity": float("nan"),
             "metric": "mcc", "value": truth_self}]
    word_rows, hedge_rows = [], _truth_rows(model, truth, members)
    for path in saes:
        loaded, scale, _ = load_saes(path)
        h_ho = torch.from_numpy((act["h_heldout"] * scale).astype(np.float32))
        for name, s in loaded.items():
            D = s.W_dec.detach().numpy().astype(np.float64)
            C = sc.abs_cos(truth, D)
            rows += _sae_rows(model, name, s, C, evaluate(s, h_ho), truth.shape[1])
            key = {"model": model, "architecture": s.spec.architecture, "width": s.spec.width,
                   "sparsity": s.spec.sparsity}
            word_rows.append(pd.DataFrame({**key, "word": word_names, "word_id": words,
                                           "frequency": act["frequency"], "best_cos": sc.best_recovery(C)}))
            hedge_rows += [{**key, "group": g, "metric": k, "value": v}
                           for g, mem in members.items() for k, v in sc.hedging(truth, D, mem).items()]
    tables = {out_scores: pd.DataFrame(rows), out_words: pd.concat(word_rows, ignore_index=True),
              out_hedging: pd.DataFrame(hedge_rows)}
    for stem, df in tables.items():
        for p in io.write_table(df, stem):
            io.write_sidecar(p, _prov(sae), inputs={"activations": activations, "saes": list(saes)})
    return tables[out_scores]


# ------------------------------------------------------------------------------------------------------- summary

def _scale_text(rec: Mapping[str, Any]) -> str:
    return (f"{rec['n_words']} words in L = {rec['latent']} (V = {rec['vocab_size']}), g = {rec['group_size']}, "
            f"{rec['samples']['train']} train / {rec['samples']['heldout']} held-out samples")


def summarise(scores: Sequence[str], hedging: Sequence[str], words: Sequence[str], activations: Sequence[str],
              histories: Sequence[str], models: Sequence[str], sae: Mapping[str, Any], out_scores: str,
              out_hedging: str, out_words: str, out_json: str, out_claims: str, out_claims_html: str
              ) -> dict[str, Any]:
    """Rule ``sae_summary``: the tables of every model in one, summary.json (true L0s, timings, best MCCs, claims)
    and the claims table."""
    tables = {out_scores: pd.concat([pd.read_parquet(p) for p in scores], ignore_index=True),
              out_hedging: pd.concat([pd.read_parquet(p) for p in hedging], ignore_index=True),
              out_words: pd.concat([pd.read_parquet(p) for p in words], ignore_index=True)}
    inputs = {"scores": list(scores), "hedging": list(hedging), "words": list(words)}
    for stem, df in tables.items():
        for p in io.write_table(df, stem):
            io.write_sidecar(p, _prov(sae), inputs=inputs)
    data = {m: io.read_json(p) for m, p in zip(models, activations)}
    for rec in data.values():
        rec.pop("provenance", None)
    hist = [io.read_json(p) for p in histories]
    c = claims(tables[out_scores], tables[out_hedging], data, sae)
    summary = {"models": {m: {k: rec[k] for k in ("latent", "n_words", "group_size", "true_l0_train",
                                                  "true_l0_heldout", "samples")} for m, rec in data.items()},
               "training_seconds": {f"{h['architecture']}@{m}": h["seconds"]
                                    for h, m in zip(hist, _history_models(histories, models))},
               "best_mcc": _best_mcc(tables[out_scores]), "claims": c,
               "provenance": io.provenance(_prov(sae), inputs)}
    io.write_json(out_json, summary)
    table = claims_table(c, {m: _scale_text(rec) for m, rec in data.items()})
    written = io.write_table(table, out_claims)
    written.append(io.write_html_table(table, out_claims_html, "SAEs on BOWS: the SAE papers' claims"))
    for p in written:
        io.write_sidecar(p, _prov(sae), inputs=inputs)
    return summary


def _history_models(histories: Sequence[str], models: Sequence[str]) -> list[str]:
    """The model tag of each history file (its path holds the tag)."""
    return [next((m for m in models if f"/{m}/" in str(p)), "?") for p in histories]


def _best_mcc(scores: pd.DataFrame) -> dict[str, Any]:
    d = scores[(scores["metric"] == "mcc") & (scores["architecture"] != "ground_truth")]
    out = {}
    for (model, arch), g in d.groupby(["model", "architecture"]):
        best = g.loc[g["value"].idxmax()]
        out[f"{arch}@{model}"] = {"mcc": float(best["value"]), "width": int(best["width"]),
                                  "sparsity": float(best["sparsity"])}
    return out


# ------------------------------------------------------------------------------------------------------- figures

def draw_figures(scores: str, hedging: str, words: str, summary: str, figures: Mapping[str, Any],
                 benchmark_out: Sequence[str], recovery_out: Sequence[str]) -> list[Path]:
    """Rule ``sae_figures``: the benchmark panels and per-word recovery against frequency."""
    from ..figures.sae import benchmark_figure, recovery_figure
    from ..figures.theme import NotAvailable, apply_theme, save_outputs, unavailable_figure

    s = apply_theme(figures)
    true_l0 = {m: r["true_l0_heldout"] for m, r in io.read_json(summary)["models"].items()}
    written = []
    for draw, outs, title, args in ((benchmark_figure, benchmark_out, "SAE benchmark",
                                     (pd.read_parquet(scores), pd.read_parquet(hedging), true_l0)),
                                    (recovery_figure, recovery_out, "SAE recovery", (pd.read_parquet(words),))):
        try:
            fig = draw(*args)
        except NotAvailable as err:
            fig = unavailable_figure(title, str(err))
        written += save_outputs(fig, outs, s, {"scores": scores, "hedging": hedging, "words": words})
    return written
