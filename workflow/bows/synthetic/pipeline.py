"""The synthetic branch's metric and summary steps as functions of files.

Every step takes ``syn``, the ``synthetic`` config section resolved for one data variant (:func:`variants`), and
writes under ``results/synthetic/``:

    compute_metrics  data.npz + models.npz → metrics table (one row per model × metric) + Gram table
    summarise        every (variant, structure)'s tables → one metrics table + summary.json (the paper's claims as
                     numbers)

The data and training steps are in :mod:`.runs`, the variants are resolved in :mod:`.variants`; the rules run them
through the stage modules of :mod:`.stages` (figures: :mod:`bows.figures.stages`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..errors import CheckpointError
from . import data as sdata
from . import metrics as smetrics
from .runs import load_data, provenance_config

__all__ = [
    "load_models",
    "compute_metrics",
    "summarise",
    "claims",
    "claims_table",
    "FLAG_CLAIMS",
    "CLAIM_TEXT",
    "KEYS",
]

log = logging.getLogger("bows.synthetic")

KEYS = ["variant", "structure", "activation", "weight_decay", "latent", "seed"]


def load_models(path: str | Path) -> pd.DataFrame:
    """The models of a ``models.npz`` as a DataFrame: one row per model with ``W`` ([m, F] array) and ``b``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arr = {k: z[k] for k in z.files}
        missing = {"W", "b", "latent", "activation", "weight_decay", "seed"} - set(arr)
        if missing:
            raise ValueError(f"missing arrays {sorted(missing)}")
    except (OSError, ValueError, EOFError) as err:
        raise CheckpointError(
            f"cannot read synthetic models {path}: {err}", "delete the file and rerun the workflow to retrain"
        ) from None
    rows = []
    for i in range(len(arr["latent"])):
        m = int(arr["latent"][i])
        rows.append(
            {
                "activation": str(arr["activation"][i]),
                "weight_decay": float(arr["weight_decay"][i]),
                "latent": m,
                "seed": int(arr["seed"][i]),
                "W": arr["W"][i, :m],
                "b": arr["b"][i],
                "train_mse": float(arr["train_mse"][i]),
                "val_mse": float(arr["val_mse"][i]),
                "final_train_loss": float(arr["loss"][i, -1]),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------------ metrics


def compute_metrics(
    structure: str,
    syn: Mapping[str, Any],
    data_npz: str | Path,
    models_npz: str | Path,
    out_metrics: str | Path,
    out_gram: str | Path,
) -> pd.DataFrame:
    """Metric table (structure, activation, weight_decay, latent, seed, metric, value) and the trace-normalised
    Gram entries (…, i, j, value; the data covariance is stored under activation ``data``, latent 0)."""
    d = load_data(data_npz)
    cov = d["covariance"]
    cov_val = sdata.covariance(d["x"][d["val"]]) if len(d["val"]) > 1 else None
    models = load_models(models_npz)
    variant = syn["variant"]
    rows, grams = [], []
    for r in models.itertuples(index=False):
        key = {
            "variant": variant,
            "structure": structure,
            "activation": r.activation,
            "weight_decay": r.weight_decay,
            "latent": r.latent,
            "seed": r.seed,
        }
        values = smetrics.synthetic_model_metrics(r.W, r.b, cov, cov_val)
        values.update(train_mse=r.train_mse, val_mse=r.val_mse, final_train_loss=r.final_train_loss)
        rows += [{**key, "metric": k, "value": float(v)} for k, v in values.items()]
        grams.append((key, smetrics.normalized_gram(r.W)))
    grams.append(
        (
            {
                "variant": variant,
                "structure": structure,
                "activation": "data",
                "weight_decay": float("nan"),
                "latent": 0,
                "seed": 0,
            },
            cov,
        )
    )
    F = cov.shape[0]
    ii, jj = np.meshgrid(np.arange(F), np.arange(F), indexing="ij")
    gram = pd.concat(
        [
            pd.DataFrame(
                {**{k: [v] * F * F for k, v in key.items()}, "i": ii.ravel(), "j": jj.ravel(), "value": G.ravel()}
            )
            for key, G in grams
        ],
        ignore_index=True,
    )
    table = pd.DataFrame(rows)
    prov = provenance_config(syn, structure)
    inputs = {"data": str(data_npz), "models": str(models_npz)}
    for df, stem in ((table, out_metrics), (gram, out_gram)):
        for path in io.write_table(df, stem):
            io.write_sidecar(path, prov, inputs=inputs)
    return table


# ---------------------------------------------------------------------------------------------------- summary


def _wide(table: pd.DataFrame) -> pd.DataFrame:
    return table.pivot_table(index=KEYS, columns="metric", values="value").reset_index()


def _ring(df: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """Latent sizes whose Gram keeps the data's co-activation pattern: cov_corr ≥ threshold."""
    ok = [int(m) for m, v in zip(df["latent"], df["cov_corr"]) if np.isfinite(v) and v >= threshold]
    return {"latents": ok, "share": len(ok) / max(1, len(df)), "max_m": max(ok) if ok else 0}


#: the claims :func:`claims` turns into a flag (``holds``), in report order
FLAG_CLAIMS = (
    "strong_wd_keeps_ring_longer",
    "relu_antipodal_pairs",
    "relu_pairs_follow_data",
    "relu_negative_bias",
    "relu_beats_linear",
)


def _spearman(g: pd.DataFrame) -> float:
    return float(pd.Series(g["latent"].to_numpy()).corr(pd.Series(g["cov_corr"].to_numpy()), method="spearman"))


def _structure_claims(
    df: pd.DataFrame, syn: Mapping[str, Any], thr: float, anti_thr: float, partner_thr: float
) -> dict[str, Any]:
    """The claims of :func:`claims` for one (variant, structure) and one seed (``df``: that seed's wide rows)."""
    wds = sorted(float(w) for w in syn["weight_decay"])
    s: dict[str, Any] = {"ring": {}}
    for (act, wd), g in df.sort_values("latent").groupby(["activation", "weight_decay"]):
        s["ring"][f"{act}_wd{wd}"] = _ring(g, thr)
        s.setdefault("per_latent", {})[f"{act}_wd{wd}"] = {
            k: dict(zip(g["latent"].astype(int).astype(str), g[k].round(4)))
            for k in (
                "cov_corr",
                "val_mse",
                "bias_mean",
                "frob_sq_per_m",
                "antipodal_score",
                "partner_cov_percentile",
                "partner_cov_percentile_heldout",
                "circulant_fit",
                "features_represented",
            )
            if k in g
        }
    weak, strong = wds[0], wds[-1]
    relu_weak = df[(df.activation == "relu") & (df.weight_decay == weak)].sort_values("latent")
    lin_weak = df[(df.activation == "linear") & (df.weight_decay == weak)].sort_values("latent")
    F = int(syn["features"])
    if len(relu_weak) >= 3:
        s["relu_leaves_ring"] = {
            "wd": weak,
            "spearman_m_cov_corr": _spearman(relu_weak),
            "linear_spearman_m_cov_corr": _spearman(lin_weak) if len(lin_weak) >= 3 else None,
        }
    if len(relu_weak):
        share = float((relu_weak["bias_mean"] < 0).mean())
        s["relu_negative_bias"] = {
            "wd": weak,
            "share_of_m": share,
            "mean_bias": float(relu_weak["bias_mean"].mean()),
            "min_bias": float(relu_weak["bias_mean"].min()),
            "holds": share > 0.5,
        }
    if len(relu_weak) and len(lin_weak):
        j = relu_weak.merge(lin_weak, on="latent", suffixes=("_relu", "_linear"))
        share = float((j["val_mse_relu"] < j["val_mse_linear"]).mean())
        s["relu_beats_linear"] = {
            "wd": weak,
            "share_of_m": share,
            "mean_mse_relu": float(j["val_mse_relu"].mean()),
            "mean_mse_linear": float(j["val_mse_linear"].mean()),
            "holds": share > 0.5,
        }
        mid = j[(j["latent"] >= F / 2) & (j["latent"] < F)]
        if len(mid):
            best = mid.loc[mid["antipodal_score_relu"].idxmax()]
            s["relu_antipodal_pairs"] = {
                "wd": weak,
                "latents": mid["latent"].astype(int).tolist(),
                "max_relu": float(best["antipodal_score_relu"]),
                "at_m": int(best["latent"]),
                "max_linear": float(mid["antipodal_score_linear"].max()),
                "holds": bool(
                    best["antipodal_score_relu"] >= anti_thr
                    and best["antipodal_score_relu"] > mid["antipodal_score_linear"].max()
                ),
            }
            q = float(best.get("partner_cov_percentile_heldout_relu", np.nan))
            s["relu_pairs_follow_data"] = {
                "wd": weak,
                "at_m": int(best["latent"]),
                "partner_cov_percentile_heldout": q,
                "partner_cov_percentile": float(best.get("partner_cov_percentile_relu", np.nan)),
                "holds": bool(s["relu_antipodal_pairs"]["holds"] and np.isfinite(q) and q <= partner_thr),
            }
    if strong != weak and "relu" in syn["activations"]:
        a = s["ring"].get(f"relu_wd{weak}")
        b = s["ring"].get(f"relu_wd{strong}")
        if a is not None and b is not None:
            s["strong_wd_keeps_ring_longer"] = {
                "weak_wd": weak,
                "strong_wd": strong,
                "share_weak": a["share"],
                "share_strong": b["share"],
                "max_m_weak": a["max_m"],
                "max_m_strong": b["max_m"],
                "holds": bool(b["share"] > a["share"] and b["max_m"] >= a["max_m"]),
            }
    return s


def claims(wide: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any]:
    """The paper's synthetic claims (§7.5, criterion 18) as numbers, per (variant, structure). The details are those
    of the first of ``synthetic.seeds`` (the seed the figures show); ``seeds`` gives, for every flagged claim, whether
    it holds at each trained seed and in how many. "Weak" and "strong" are the smallest and largest of
    ``synthetic.weight_decay``; the linear model at the same m and wd is the baseline of every ReLU claim.

    * ``ring``: for each (activation, wd), the latent sizes m whose corr(off-diagonal Ĝ, data covariance) ≥
      ``synthetic.ring_corr_threshold``, their share and the largest;
    * ``strong_wd_keeps_ring_longer``: holds when ReLU at the strong wd keeps the ring at a larger share of m than
      at the weak wd, up to at least the same largest m;
    * ``relu_leaves_ring``: Spearman ρ(m, cov_corr) for ReLU at the weak wd (negative: leaves the ring as m grows),
      with the linear model's ρ beside it;
    * ``relu_antipodal_pairs``: the largest antipodal score of ReLU (weak wd) over F/2 ≤ m < F (the paper's 6–10 for
      F = 12) against the linear model's; holds when it reaches ``synthetic.antipodal_threshold`` and exceeds linear;
    * ``relu_pairs_follow_data``: at that m, where the ReLU model's antipodal partners sit among each feature's
      covariances on the validation samples (``partner_cov_percentile_heldout``: 0 = the least co-active feature,
      about ½ = chance); holds when the pairs hold and it is at most ``synthetic.partner_percentile_threshold``.
      Antipodal pairs also form on sparse uncorrelated data, where the model pairs features by the noise of its
      training sample (``partner_cov_percentile``, on all samples, is low there too); held-out samples do not share
      that noise, so only correlations of the data-generating process keep the held-out percentile low;
    * ``relu_negative_bias``: share of m with a negative mean decoder bias (ReLU, weak wd); holds for more than half;
    * ``relu_beats_linear``: share of m with val MSE(ReLU) < val MSE(linear) at the weak wd; holds for more than half.
    """
    thr = float(syn["ring_corr_threshold"])
    anti_thr = float(syn["antipodal_threshold"])
    partner_thr = float(syn["partner_percentile_threshold"])
    seed = int(syn["seeds"][0])
    out: dict[str, Any] = {
        "ring_corr_threshold": thr,
        "antipodal_threshold": anti_thr,
        "partner_percentile_threshold": partner_thr,
        "seed": seed,
        "structures": {},
    }
    for (variant, structure), df in wide.groupby(["variant", "structure"], sort=False):
        trained = [int(x) for x in syn["seeds"] if (df["seed"] == int(x)).any()]
        if seed not in trained:
            continue
        per = {sd: _structure_claims(df[df["seed"] == sd], syn, thr, anti_thr, partner_thr) for sd in trained}
        s = per[seed]
        s["seeds"] = {}
        for name in FLAG_CLAIMS:
            flags = {str(sd): bool(c[name]["holds"]) for sd, c in per.items() if name in c}
            if flags:
                s["seeds"][name] = {"per_seed": flags, "held_in": sum(flags.values()), "of": len(flags)}
        out["structures"][f"{variant}/{structure}"] = s
    return out


def _claim_detail(name: str, c: Mapping[str, Any], thr: float) -> str:
    if name == "strong_wd_keeps_ring_longer":
        return (
            f"share of m with cov_corr ≥ {thr:g}: {c['share_strong']:.2f} at wd {c['strong_wd']:g} vs "
            f"{c['share_weak']:.2f} at wd {c['weak_wd']:g} (largest m {c['max_m_strong']} vs {c['max_m_weak']})"
        )
    if name == "relu_antipodal_pairs":
        return (
            f"largest antipodal score at m {c['latents'][0]}–{c['latents'][-1]}: ReLU {c['max_relu']:.2f} "
            f"(m = {c['at_m']}) vs linear {c['max_linear']:.2f}"
        )
    if name == "relu_pairs_follow_data":
        q, q_all = c["partner_cov_percentile_heldout"], c["partner_cov_percentile"]
        return (
            f"at m = {c['at_m']}: partners at percentile {q:.2f} of each feature's held-out covariances "
            f"({q_all:.2f} on all samples; 0 = least co-active, chance ½)"
            if np.isfinite(q)
            else f"at m = {c['at_m']}: no antipodal partner"
        )
    if name == "relu_negative_bias":
        return f"mean decoder bias < 0 at {c['share_of_m']:.0%} of m (mean {c['mean_bias']:.3f})"
    return (
        f"val MSE below linear at {c['share_of_m']:.0%} of m (mean {c['mean_mse_relu']:.4f} vs "
        f"{c['mean_mse_linear']:.4f})"
    )


CLAIM_TEXT = {
    "strong_wd_keeps_ring_longer": "strong weight decay keeps the ring to larger m",
    "relu_antipodal_pairs": "ReLU forms antipodal pairs (F/2 ≤ m < F)",
    "relu_pairs_follow_data": "the pairs are features anti-correlated in the data",
    "relu_negative_bias": "ReLU uses negative biases",
    "relu_beats_linear": "ReLU beats linear on MSE",
}


def claims_table(c: Mapping[str, Any]) -> pd.DataFrame:
    """One row per (variant/structure, flagged claim): the first seed's verdict and numbers, the number of trained
    seeds at which the claim holds, and the verdict on the iid null of the same variant (a claim that holds there
    too is a property of the decoder, not of the correlations; "—" when the variant has no iid structure)."""
    rows = []
    for key, s in c["structures"].items():
        variant, structure = key.split("/", 1)
        null = c["structures"].get(f"{variant}/iid") if structure != "iid" else None
        for name in FLAG_CLAIMS:
            if name not in s:
                continue
            seeds = s["seeds"].get(name, {"held_in": int(s[name]["holds"]), "of": 1})
            on_null = "—" if null is None or name not in null else ("yes" if null[name]["holds"] else "no")
            rows.append(
                {
                    "variant": variant,
                    "structure": structure,
                    "claim": CLAIM_TEXT[name],
                    f"holds (seed {c['seed']})": "yes" if s[name]["holds"] else "no",
                    "held in seeds": f"{seeds['held_in']}/{seeds['of']}",
                    "holds on the iid null": on_null,
                    f"numbers (seed {c['seed']}, weak wd unless noted)": _claim_detail(
                        name, s[name], c["ring_corr_threshold"]
                    ),
                }
            )
    return pd.DataFrame(rows)


def summarise(
    metric_tables: Sequence[str | Path],
    data_jsons: Sequence[str | Path],
    train_jsons: Sequence[str | Path],
    syn: Mapping[str, Any],
    out_table: str | Path,
    out_json: str | Path,
    out_claims: str | Path | None = None,
    out_claims_html: str | Path | None = None,
) -> dict[str, Any]:
    """Concatenate the metric tables of every (variant, structure) and write ``summary.json`` (data statistics,
    timings, and the claims of :func:`claims` keyed ``"variant/structure"``); with ``out_claims`` also the claims as
    a table (:func:`claims_table`, parquet + CSV) and with ``out_claims_html`` that table as HTML for the report."""
    table = pd.concat([pd.read_parquet(p) for p in metric_tables], ignore_index=True)
    paths = io.write_table(table, out_table)
    inputs = {"metrics": [str(p) for p in metric_tables]}
    for path in paths:
        io.write_sidecar(path, provenance_config(syn), inputs=inputs)
    data = {f"{d['variant']}/{d['structure']}": d for d in map(io.read_json, data_jsons)}
    train = {f"{d['variant']}/{d['structure']}": d for d in map(io.read_json, train_jsons)}
    summary = {
        "data": {
            k: {
                key: v.get(key) for key in ("spec", "mean_activation", "active_per_sample", "distinct_samples", "iid_p")
            }
            for k, v in data.items()
        },
        "training": {
            k: {
                "models": v["models"],
                "seconds": v["seconds"],
                "ms_per_step": v["ms_per_step"],
                "batched": v["batched"],
            }
            for k, v in train.items()
        },
        "claims": claims(_wide(table), syn),
        "provenance": io.provenance(
            provenance_config(syn),
            inputs={**inputs, "data": [str(p) for p in data_jsons], "train": [str(p) for p in train_jsons]},
        ),
    }
    io.write_json(out_json, summary)
    if out_claims:
        table = claims_table(summary["claims"])
        written = io.write_table(table, out_claims)
        if out_claims_html:
            written.append(io.write_html_table(table, out_claims_html, "Synthetic BOWS: the paper's claims"))
        for path in written:
            io.write_sidecar(path, provenance_config(syn), inputs=inputs)
    return summary
