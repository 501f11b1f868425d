"""Rule metrics_mechanism: per-word R² (context, one-hot, linear decoders), strata, months R², pre-activations
and towers of the mechanism targets (paper §6.6–6.8)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CorpusError
from ..metrics.mechanism import better_than_onehot, preact_density, preact_summary, towers_for_target
from ..metrics.r2 import fit_linear_decoder, onehot_r2, reconstruction_stats, strata
from ..metrics.tables import Rows, save, spec_from_tag
from ..metrics.words import WordIndex, mechanism_words
from .common import load_model, sample

log = logging.getLogger("bows.metrics")

STRATA = ("linear", "nonlinear", "not_represented", "undefined")


def heldout_batches(docs_list: Sequence[Any], G: int, S: int, V: int, cap: int | None, seed: int, batch: int = 512):
    """A re-iterable of dense [B, V] float32 batches over all windows of the given splits (seeded cap)."""
    from ..windows import Windows

    plan = [(win, np.arange(len(win), dtype=np.int64)) for win in (Windows(d, G, S) for d in docs_list)]
    total = sum(len(w) for _, w in plan)
    if cap is not None and total > cap:
        keep, off, new = sample(total, cap, seed), 0, []
        for d, w in plan:
            new.append((d, w[keep[(keep >= off) & (keep < off + len(w))] - off]))
            off += len(w)
        plan = new

    class _Batches:
        n = sum(len(w) for _, w in plan)

        def __iter__(self):
            for d, w in plan:
                for s in range(0, len(w), batch):
                    yield d.dense_array(w[s : s + batch])

    return _Batches()


def _fit_decoder(W: np.ndarray, train_docs: str, train_windows: str, G: int, S: int, n: int, seed: int):
    """Least-squares linear decoder from h = Wx, fitted on a seeded sample of ``n`` training windows."""
    from ..encode import load_docs
    from ..windows import Windows

    twin = np.load(train_windows).astype(np.int64)
    twin = twin[sample(twin.size, n, seed)]
    win = Windows(load_docs(train_docs), G, S)
    return fit_linear_decoder(W, (win.dense_array(twin[s : s + 512]) for s in range(0, twin.size, 512))), int(twin.size)


def _r2_table(index: WordIndex, st: Any, r2_1: np.ndarray, thr: float) -> pd.DataFrame:
    """Per word: frequency, context / one-hot / linear-decoder R², their gap and the strata of both decoders."""
    V = len(index)
    r2 = pd.DataFrame(
        {
            "idx": np.arange(V),
            "word": index.words,
            "freq_count": st.freq_count,
            "freq_rate": st.freq_count / max(st.n_windows, 1),
            "r2_ctx": st.r2_ctx,
            "r2_onehot": r2_1,
        }
    )
    r2["delta"] = r2["r2_ctx"] - r2["r2_onehot"]
    r2["r2_lin_tied"] = st.r2_tied
    r2["r2_lin_ls"] = st.r2_ls
    r2["stratum"] = strata(st.r2_ctx, st.r2_ls, thr)
    r2["stratum_tied"] = strata(st.r2_ctx, st.r2_tied, thr)
    return r2


def _gap_table(r2: pd.DataFrame) -> pd.DataFrame:
    """Words ranked by the context-over-one-hot R² gap (ties: more frequent first, then alphabetical)."""
    gap = r2[np.isfinite(r2["r2_ctx"]) & np.isfinite(r2["r2_onehot"])].sort_values(
        ["delta", "freq_count", "word"], ascending=[False, False, True], kind="stable"
    )
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(gap) + 1),
            "word": gap["word"].to_numpy(),
            "freq_count": gap["freq_count"].to_numpy(),
            "r2_ctx": gap["r2_ctx"].to_numpy(),
            "r2_onehot": gap["r2_onehot"].to_numpy(),
            "delta": gap["delta"].to_numpy(),
        }
    )


def _strata_table(r2: pd.DataFrame, thr: float) -> pd.DataFrame:
    rows = []
    for dec, col in (("lstsq_h", "stratum"), ("tied_linear", "stratum_tied")):
        for name in STRATA:
            m = r2[col] == name
            rows.append(
                {
                    "decoder": dec,
                    "stratum": name,
                    "n_words": int(m.sum()),
                    "median_freq": float(r2.loc[m, "freq_count"].median()) if m.any() else np.nan,
                    "threshold": thr,
                }
            )
    return pd.DataFrame(rows)


def _months_r2(months: Any, st: Any, rows: Rows) -> pd.DataFrame:
    """Months R² under both protocols (§6.8(1)), one row per month and protocol; summary rows into ``rows``."""
    out = []
    if months is None:
        return pd.DataFrame(out, columns=["protocol", "word", "r2", "status"])
    found = months.found
    for proto, vals in (
        ("tied_linear", st.group_tied.get("Months")),
        ("lstsq_h", st.r2_ls[months.indices[found]] if found.any() else None),
    ):
        full = np.full(len(months.words), np.nan)
        if vals is not None:
            full[found] = vals
        for w, v, f in zip(months.words, full, found):
            out.append(
                {
                    "protocol": proto,
                    "word": w,
                    "r2": v,
                    "status": "ok"
                    if f and np.isfinite(v)
                    else ("missing: word not in vocabulary" if not f else "undefined: word never occurs"),
                }
            )
        fin = full[np.isfinite(full)]
        rows.add("Months", "r2_mean", float(fin.mean()) if fin.size else np.nan, item=proto)
        rows.add("Months", "r2_sd", float(fin.std(ddof=1)) if fin.size > 1 else np.nan, item=proto)
        rows.add("Months", "r2_min", float(fin.min()) if fin.size else np.nan, item=proto)
        rows.add("Months", "n_finite", fin.size, item=proto)
    return pd.DataFrame(out, columns=["protocol", "word", "r2", "status"])


def _target(
    t: str,
    i: int,
    W: np.ndarray,
    b: np.ndarray,
    index: WordIndex,
    st: Any,
    r2_1: np.ndarray,
    gap: pd.DataFrame,
    month_ctx: list[tuple[str, int]],
    rows: Rows,
):
    """Pre-activations, towers and density of one mechanism target; its summary rows go into ``rows``."""
    spec = mechanism_words(t)
    corr = [(w, index.lookup(w, case_insensitive=True)) for w in spec["correlated"]]
    unc = [(w, index.lookup(w, case_insensitive=True)) for w in spec["uncorrelated"]]
    tw = towers_for_target(W, b, i, t, corr, unc, month_ctx if t.lower() == "christmas" else None)
    z = st.preacts.get(i, np.zeros(0))
    one = float(np.dot(W[:, i].astype(np.float64), W[:, i]) + b[i])
    summ = preact_summary(z, one)
    status = "ok" if summ["n_windows"] else "rare: target in no held-out window"
    rows.add_many(
        t,
        {
            **summ,
            "onehot_z": one,
            "bias": float(b[i]),
            "self": one - float(b[i]),
            "r2_ctx": float(st.r2_ctx[i]),
            "r2_onehot": float(r2_1[i]),
            "delta": float(st.r2_ctx[i] - r2_1[i]),
            "delta_rank_pct": rank_pct(gap, t),
        },
        status=status,
    )
    tower_rows(rows, t, tw)
    grid, dens = preact_density(z)
    density = pd.DataFrame({"target": t, "z": grid, "density": dens, "positive": grid > 0})
    pre = pd.DataFrame(
        {
            "target": t,
            "window": np.arange(z.size),
            "z": z,
            "x_hat": np.maximum(z, 0),
            "onehot_z": one,
            "better_than_onehot": better_than_onehot(z, one),
        }
    )
    return pre, tw, density


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def run_mechanism(
    model: str,
    vocab: str,
    heldout_docs: Sequence[str],
    train_docs: str,
    train_windows: str,
    out: Mapping[str, str],
    analysis: Mapping[str, Any],
    windows: Mapping[str, Any],
    tag: str,
    config: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Every mechanism table of one model. Returns timings (seconds), also written as ``timing`` rows."""
    from ..encode import load_docs

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    index, groups, W, b = load_model(model, vocab, analysis)
    G, S, seed = int(windows["group_size"]), int(windows["stride"]), int(analysis["seed"])
    targets = list(analysis["mechanism_targets"])
    tidx = {t: index.lookup(t, case_insensitive=True) for t in targets}
    for t, i in tidx.items():
        if i < 0:
            log.warning("mechanism target %r is not in the vocabulary: its rows are NaN with a status", t)
    months = groups.get("Months")
    ho = heldout_batches([load_docs(p) for p in heldout_docs], G, S, W.shape[1], analysis["heldout_windows"], seed)
    if ho.n == 0:
        raise CorpusError(
            "no held-out windows in the validation/test splits",
            f"the held-out splits need at least group_size={G} records",
        )
    D, n_fit = _fit_decoder(W, train_docs, train_windows, G, S, int(analysis["decoder_fit_windows"]), seed + 1)
    timings["decoder_fit"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    mg = {"Months": months.indices[months.found]} if months is not None and months.found.sum() >= 2 else {}
    st = reconstruction_stats(W, b, ho, decoder=D, targets=[i for i in tidx.values() if i >= 0], groups=mg)
    timings["heldout_pass"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    r2_1 = onehot_r2(W, b)
    timings["onehot"] = time.perf_counter() - t1
    thr = float(analysis["strata_threshold"])
    r2 = _r2_table(index, st, r2_1, thr)
    gap = _gap_table(r2)
    rows = Rows(spec_from_tag(tag))
    rows.add("heldout", "n_windows", st.n_windows)
    rows.add("heldout", "decoder_fit_windows", n_fit)
    valid = np.isfinite(r2["r2_ctx"]) & np.isfinite(r2["r2_onehot"])
    rows.add("heldout", "r2_ctx_mean", float(r2.loc[valid, "r2_ctx"].mean()) if valid.any() else np.nan)
    rows.add("heldout", "r2_onehot_mean", float(r2.loc[valid, "r2_onehot"].mean()) if valid.any() else np.nan)
    months_r2 = _months_r2(months, st, rows)
    month_ctx = [(w, int(i)) for w, i in zip(months.words, months.indices)] if months is not None else []
    pre, towers, dens = [], [], []
    for t in targets:
        if tidx[t] < 0:
            rows.add(t, "n_windows", np.nan, status="missing: target not in vocabulary")
            continue
        p, tw, d = _target(t, tidx[t], W, b, index, st, r2_1, gap, month_ctx, rows)
        pre.append(p)
        towers.append(tw)
        dens.append(d)
    timings["total"] = time.perf_counter() - t0
    for k, v in timings.items():
        rows.add("timing", f"seconds_{k}", v)
    ins = {"model": model, "vocab": vocab}
    tables = {
        "r2": r2,
        "r2_gap": gap,
        "months_r2": months_r2,
        "strata": _strata_table(r2, thr),
        "preact": _concat(pre, ["target", "window", "z", "x_hat", "onehot_z", "better_than_onehot"]),
        "towers": _concat(
            towers, ["target", "tower", "step", "word", "kind", "contribution", "start", "end", "status"]
        ),
        "density": _concat(dens, ["target", "z", "density", "positive"]),
        "metrics": rows.frame(),
    }
    for name, df in tables.items():
        save(df, out[name], config, ins)
    log.info("mechanism timings: %s", {k: round(v, 2) for k, v in timings.items()})
    return timings


def rank_pct(gap: pd.DataFrame, word: str) -> float:
    """Percentile of the word's Δ rank in the gap table (0 = top); NaN if absent."""
    hit = gap.index[gap["word"] == word]
    if not len(hit) or not len(gap):
        return float("nan")
    return float((gap.loc[hit[0], "rank"] - 1) / len(gap))


def tower_rows(rows: Rows, t: str, tw: pd.DataFrame) -> None:
    """Summary rows of a target's towers: each tower's end, its context sum, and the months' contributions."""
    for name in ("correlated", "uncorrelated", "correlated_no_target"):
        g = tw[tw["tower"] == name]
        ctx = g[g["kind"] == "context"]
        st = "ok" if (g["status"] == "ok").all() else "some context words missing"
        rows.add(t, f"tower_{name}_end", float(g["end"].iloc[-1]) if len(g) else np.nan, status=st)
        rows.add(
            t, f"sum_{name}_context", float(ctx["contribution"].sum(min_count=1)) if len(ctx) else np.nan, status=st
        )
    m = tw[tw["tower"] == "months"]
    if not len(m):
        return
    c = m["contribution"].to_numpy(dtype=float)
    st = "ok" if np.isfinite(c).all() else "some months missing"
    rows.add(t, "months_sum", float(np.nansum(c)), status=st)
    if np.isfinite(c).any():
        k = int(np.nanargmax(c))
        rows.add(t, "months_max", float(c[k]), item=str(m["word"].iloc[k]), status=st)
    for w, v in zip(m["word"], c):
        rows.add(t, "month_contribution", v, item=str(w), status="ok" if np.isfinite(v) else "missing")
