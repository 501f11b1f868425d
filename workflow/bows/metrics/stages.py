"""Entry points of the metrics stage: one function per Snakemake rule (files in, tables out).

Each function validates its word lists against the vocabulary first (clear errors before expensive work), computes
with the pure functions of this package, and writes tidy tables (parquet + CSV + provenance sidecar).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..config import word_lists
from ..errors import CorpusError
from ..io import write_json
from . import months as mon
from .data_stats import group_data_stats
from .mechanism import better_than_onehot, preact_density, preact_summary, towers_for_target
from .model_metrics import model_metrics
from .r2 import fit_linear_decoder, onehot_r2, reconstruction_stats, strata
from .sweep import cluster_table, loss_fits, losses_table, subspace_table, sweep_tables
from .tables import Rows, concat, save, spec_from_tag
from .words import WordIndex, resolve_group, resolve_groups, semantic_assignment, seasonal_words

log = logging.getLogger("bows.metrics")

__all__ = ["run_data", "run_subspace", "run_model", "run_months", "run_mechanism", "run_umap", "run_sweep",
           "heldout_batches", "load_index"]


def _stem(path: str | os.PathLike) -> str:
    """The output path as given (``save`` appends .parquet/.csv to the stem itself)."""
    return str(path)


def load_index(vocab_path: str | os.PathLike) -> tuple[WordIndex, pd.DataFrame]:
    from ..vocab import read_vocab

    vocab = read_vocab(vocab_path)
    return WordIndex.from_vocab(vocab), vocab


def _sample(n: int, cap: int | None, seed: int) -> np.ndarray:
    """All of range(n), or a sorted seeded subsample of ``cap`` of them."""
    if cap is None or n <= cap:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False)).astype(np.int64)


# ----------------------------------------------------------------------------------------------------- data
def run_data(vocab: str, train_docs: str, train_windows: str, out: Mapping[str, str], analysis: Mapping[str, Any],
             windows: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> None:
    """Rule metrics_data: co-occurrence of every word group over (a seeded subsample of) the training windows."""
    from ..encode import load_docs

    index, vdf = load_index(vocab)
    groups = resolve_groups(analysis["word_groups"], index)
    docs = load_docs(train_docs)
    widx = np.load(train_windows).astype(np.int64)
    if widx.size == 0:
        raise CorpusError(f"{train_windows} holds no training windows", "use a larger corpus or smaller group_size")
    sel = _sample(widx.size, analysis.get("max_windows"), int(analysis["seed"]))
    widx = widx[sel]
    counts = vdf.sort_values("index")["count"].to_numpy()
    cooc, ring, met = group_data_stats(docs.indptr, docs.indices, len(index), int(windows["group_size"]),
                                       int(windows["stride"]), widx, groups, counts, index.words,
                                       int(analysis["cooc_top_words"]),
                                       int(analysis["null_permutations"]), int(analysis["seed"]))
    ins = {"vocab": vocab, "docs": train_docs + ".json", "windows": train_windows}
    save(cooc, _stem(out["cooc"]), config, ins)
    save(ring, _stem(out["ring"]), config, ins)
    save(met, _stem(out["metrics"]), config, ins)


def run_subspace(train_docs: str, train_windows: str, out: str, analysis: Mapping[str, Any],
                 windows: Mapping[str, Any], k: int) -> dict[str, Any]:
    """Rule metrics_subspace: top-k eigenvectors of the windows' second moment and covariance (see
    :mod:`.subspace`) from a seeded sample of ``analysis.subspace_windows`` training windows."""
    from ..windows import Windows
    from ..encode import load_docs
    from .subspace import principal_subspaces, save_subspace, window_moments

    docs = load_docs(train_docs, mmap=True)
    win = Windows(docs, int(windows["group_size"]), int(windows["stride"]))
    widx = np.load(train_windows).astype(np.int64)
    cap = min(int(analysis.get("subspace_windows", 50000)), int(analysis.get("max_windows") or widx.size))
    widx = widx[_sample(widx.size, cap, int(analysis.get("seed", 42)))]
    enc = windows.get("encoding", "binary")
    t0 = time.perf_counter()
    batches = (win.batch_values(widx[s:s + 4096], enc) for s in range(0, widx.size, 4096))
    M, mu, n = window_moments(batches, win.vocab_size)
    log.info("second moments of %d %s windows in %.1f s", n, enc, time.perf_counter() - t0)
    sub = principal_subspaces(M, mu, min(int(k), win.vocab_size), int(analysis.get("seed", 42)))
    save_subspace(out, sub, n)
    return sub


# ----------------------------------------------------------------------------------------------------- model
def run_model(model: str, vocab: str, cooc: str | None, out: Mapping[str, str], analysis: Mapping[str, Any],
              tag: str, config: Mapping[str, Any] | None = None, subspace: str | None = None) -> None:
    """Rule metrics_model: every per-model metric of one grid model (with the principal-subspace overlap when
    ``subspace`` names the eigenvector file)."""
    from .subspace import load_subspace, subspace_metrics

    index, groups, W, b = _load_model(model, vocab, analysis)
    cooc_df = pd.read_parquet(cooc) if cooc else None
    rows = Rows(spec_from_tag(tag))
    t0 = time.perf_counter()
    words, gtab, gram = model_metrics(W, b, index, groups, rows, cooc_df, int(analysis["null_permutations"]),
                                      int(analysis["seed"]), int(analysis["knn_k"]))
    values, status = subspace_metrics(W, load_subspace(subspace) if subspace else None)
    always = ("frob2_per_latent", "random_baseline")
    rows.add_many("subspace", {k: values.pop(k) for k in always})
    rows.add_many("subspace", values, status=status)
    log.info("model metrics of %s in %.1f s", tag, time.perf_counter() - t0)
    ins = {"model": model, "vocab": vocab}
    save(rows.frame(), _stem(out["metrics"]), config, ins)
    save(words, _stem(out["words"]), config, ins)
    save(gtab, _stem(out["groups"]), config, ins)
    save(gram, _stem(out["gram"]), config, ins)


def _load_model(model: str, vocab: str, analysis: Mapping[str, Any]):
    """(word index, resolved word groups, W, b) of a model file, checked against the vocabulary."""
    from ..model import load_weights

    index, _ = load_index(vocab)
    groups = resolve_groups(analysis["word_groups"], index)
    W, b = load_weights(model)
    _check_v(W, index, model)
    return index, groups, W, b


def _check_v(W: np.ndarray, index: WordIndex, model: str) -> None:
    if W.shape[1] != len(index):
        from ..errors import VocabError

        raise VocabError(f"{model} has V={W.shape[1]} columns but the vocabulary has {len(index)} words",
                         "retrain the model on this vocabulary (delete it and rerun the train stage)")


# ----------------------------------------------------------------------------------------------------- months
def run_months(model: str, vocab: str, data_ring: str | None, out: Mapping[str, str], analysis: Mapping[str, Any],
               tag: str, config: Mapping[str, Any] | None = None) -> None:
    """Rule metrics_months: month rings (data + weights) and the seasonal words of the months model."""
    from . import geometry as geo

    index, groups, W, _b = _load_model(model, vocab, analysis)
    months = groups.get("Months") or resolve_group("Months", word_lists()["word_groups"]["Months"], index,
                                                   strict=False)
    ring = mon.ring_table(W, months, pd.read_parquet(data_ring) if data_ring else None)
    seas = [(w, s, index.lookup(w, case_insensitive=True)) for w, s in seasonal_words()]
    for w, _, i in seas:
        if i < 0:
            log.warning("seasonal word %r not in the vocabulary: reported as missing", w)
    table, met = mon.seasonal_table(W, months, seas)
    rows = Rows(spec_from_tag(tag))
    rows.add_many("Months", met)
    ok = months.found
    if ok.sum() >= 4:
        C = geo.cosine(W[:, months.indices[ok]].T)
        rows.add("Months", "mean_abs_cos", geo.mean_abs_offdiag(C))
        rows.add("Months", "adjacent_gt_opposite", geo.adjacent_vs_opposite(C))
    ins = {"model": model, "vocab": vocab}
    save(ring, _stem(out["ring"]), config, ins)
    save(table, _stem(out["seasonal"]), config, ins)
    save(rows.frame(), _stem(out["metrics"]), config, ins)


# ----------------------------------------------------------------------------------------------------- mechanism
def heldout_batches(docs_list: Sequence[Any], G: int, S: int, V: int, cap: int | None, seed: int,
                    batch: int = 512):
    """A re-iterable of dense [B, V] float32 batches over all windows of the given splits (seeded cap)."""
    from ..windows import Windows

    plan = []
    for d in docs_list:
        win = Windows(d, G, S)
        plan.append((win, np.arange(len(win), dtype=np.int64)))
    total = sum(len(w) for _, w in plan)
    if cap is not None and total > cap:
        keep = _sample(total, cap, seed)
        off = 0
        new = []
        for d, w in plan:
            sel = keep[(keep >= off) & (keep < off + len(w))] - off
            new.append((d, w[sel]))
            off += len(w)
        plan = new

    class _Batches:
        n = sum(len(w) for _, w in plan)

        def __iter__(self):
            for d, w in plan:
                for s in range(0, len(w), batch):
                    yield d.dense_array(w[s:s + batch])

    return _Batches()


def run_mechanism(model: str, vocab: str, heldout_docs: Sequence[str], train_docs: str, train_windows: str,
                  out: Mapping[str, str], analysis: Mapping[str, Any], windows: Mapping[str, Any], tag: str,
                  config: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Rule metrics_mechanism: per-word R² (context, one-hot, linear decoders), strata, months R², pre-activations
    and towers of the mechanism targets (paper §6.6–6.8). Returns timings (seconds)."""
    from ..encode import load_docs

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    index, groups, W, b = _load_model(model, vocab, analysis)
    V = W.shape[1]
    G, S = int(windows["group_size"]), int(windows["stride"])
    seed = int(analysis["seed"])
    targets = list(analysis["mechanism_targets"])
    tidx = {t: index.lookup(t, case_insensitive=True) for t in targets}
    for t, i in tidx.items():
        if i < 0:
            log.warning("mechanism target %r is not in the vocabulary: its rows are NaN with a status", t)
    months = groups.get("Months")
    hdocs = [load_docs(p) for p in heldout_docs]
    ho = heldout_batches(hdocs, G, S, V, analysis.get("heldout_windows"), seed)
    if ho.n == 0:
        raise CorpusError("no held-out windows in the validation/test splits",
                          f"the held-out splits need at least group_size={G} records")
    # least-squares linear decoder fitted on training windows
    tdocs = load_docs(train_docs)
    twin = np.load(train_windows).astype(np.int64)
    fit_n = int(analysis["decoder_fit_windows"])
    twin = twin[_sample(twin.size, fit_n, seed + 1)]
    from ..windows import Windows

    twins = Windows(tdocs, G, S)
    fit_batches = (twins.dense_array(twin[s:s + 512]) for s in range(0, twin.size, 512))
    D = fit_linear_decoder(W, fit_batches)
    timings["decoder_fit"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    mg = {"Months": months.indices[months.found]} if months is not None and months.found.sum() >= 2 else {}
    st = reconstruction_stats(W, b, ho, decoder=D, targets=[i for i in tidx.values() if i >= 0], groups=mg)
    timings["heldout_pass"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    r2_1 = onehot_r2(W, b)
    timings["onehot"] = time.perf_counter() - t1
    thr = float(analysis["strata_threshold"])
    r2 = pd.DataFrame({"idx": np.arange(V), "word": index.words, "freq_count": st.freq_count,
                       "freq_rate": st.freq_count / max(st.n_windows, 1), "r2_ctx": st.r2_ctx, "r2_onehot": r2_1})
    r2["delta"] = r2["r2_ctx"] - r2["r2_onehot"]
    r2["r2_lin_tied"] = st.r2_tied
    r2["r2_lin_ls"] = st.r2_ls
    r2["stratum"] = strata(st.r2_ctx, st.r2_ls, thr)
    r2["stratum_tied"] = strata(st.r2_ctx, st.r2_tied, thr)
    gap = r2[np.isfinite(r2["r2_ctx"]) & np.isfinite(r2["r2_onehot"])].sort_values(
        ["delta", "freq_count", "word"], ascending=[False, False, True], kind="stable")
    gap = pd.DataFrame({"rank": np.arange(1, len(gap) + 1), "word": gap["word"].to_numpy(),
                        "freq_count": gap["freq_count"].to_numpy(), "r2_ctx": gap["r2_ctx"].to_numpy(),
                        "r2_onehot": gap["r2_onehot"].to_numpy(), "delta": gap["delta"].to_numpy()})
    srows = []
    for dec, col in (("lstsq_h", "stratum"), ("tied_linear", "stratum_tied")):
        for name in ("linear", "nonlinear", "not_represented", "undefined"):
            m = r2[col] == name
            srows.append({"decoder": dec, "stratum": name, "n_words": int(m.sum()),
                          "median_freq": float(r2.loc[m, "freq_count"].median()) if m.any() else np.nan,
                          "threshold": thr})
    strata_df = pd.DataFrame(srows)
    rows = Rows(spec_from_tag(tag))
    rows.add("heldout", "n_windows", st.n_windows)
    rows.add("heldout", "decoder_fit_windows", int(twin.size))
    valid = np.isfinite(r2["r2_ctx"]) & np.isfinite(r2["r2_onehot"])
    rows.add("heldout", "r2_ctx_mean", float(r2.loc[valid, "r2_ctx"].mean()) if valid.any() else np.nan)
    rows.add("heldout", "r2_onehot_mean", float(r2.loc[valid, "r2_onehot"].mean()) if valid.any() else np.nan)
    # months R² (§6.8(1))
    mr = []
    if months is not None:
        mwords = np.array(months.words)
        found = months.found
        for proto, vals in (("tied_linear", st.group_tied.get("Months")),
                            ("lstsq_h", st.r2_ls[months.indices[found]] if found.any() else None)):
            full = np.full(len(mwords), np.nan)
            if vals is not None:
                full[found] = vals
            for w, v, f in zip(mwords, full, found):
                mr.append({"protocol": proto, "word": w, "r2": v,
                           "status": "ok" if f and np.isfinite(v) else ("missing: word not in vocabulary" if not f
                                                                        else "undefined: word never occurs")})
            fin = full[np.isfinite(full)]
            rows.add("Months", "r2_mean", float(fin.mean()) if fin.size else np.nan, item=proto)
            rows.add("Months", "r2_sd", float(fin.std(ddof=1)) if fin.size > 1 else np.nan, item=proto)
            rows.add("Months", "r2_min", float(fin.min()) if fin.size else np.nan, item=proto)
            rows.add("Months", "n_finite", fin.size, item=proto)
    months_r2 = pd.DataFrame(mr, columns=["protocol", "word", "r2", "status"])
    # pre-activations and towers
    pre, towers, dens_parts = [], [], []
    month_ctx = [(w, int(i)) for w, i in zip(months.words, months.indices)] if months is not None else []
    for t in targets:
        i = tidx[t]
        if i < 0:
            rows.add(t, "n_windows", np.nan, status="missing: target not in vocabulary")
            continue
        spec = _mechanism_spec(t)
        corr = [(w, index.lookup(w, case_insensitive=True)) for w in spec["correlated"]]
        unc = [(w, index.lookup(w, case_insensitive=True)) for w in spec["uncorrelated"]]
        tw = towers_for_target(W, b, i, t, corr, unc, month_ctx if t.lower() == "christmas" else None)
        towers.append(tw)
        z = st.preacts.get(i, np.zeros(0))
        one = float(np.dot(W[:, i].astype(np.float64), W[:, i]) + b[i])
        summ = preact_summary(z, one)
        status = "ok" if summ["n_windows"] else "rare: target in no held-out window"
        rows.add_many(t, {**summ, "onehot_z": one, "bias": float(b[i]), "self": one - float(b[i]),
                          "r2_ctx": float(st.r2_ctx[i]), "r2_onehot": float(r2_1[i]),
                          "delta": float(st.r2_ctx[i] - r2_1[i]),
                          "delta_rank_pct": _rank_pct(gap, t)}, status=status)
        _tower_rows(rows, t, tw)
        grid, dens = preact_density(z)
        dens_parts.append(pd.DataFrame({"target": t, "z": grid, "density": dens, "positive": grid > 0}))
        pre.append(pd.DataFrame({"target": t, "window": np.arange(z.size), "z": z, "x_hat": np.maximum(z, 0),
                                 "onehot_z": one, "better_than_onehot": better_than_onehot(z, one)}))
    pre_df = pd.concat(pre, ignore_index=True) if pre else pd.DataFrame(
        columns=["target", "window", "z", "x_hat", "onehot_z", "better_than_onehot"])
    tow_df = pd.concat(towers, ignore_index=True) if towers else pd.DataFrame(
        columns=["target", "tower", "step", "word", "kind", "contribution", "start", "end", "status"])
    dens_df = pd.concat(dens_parts, ignore_index=True) if dens_parts else pd.DataFrame(
        columns=["target", "z", "density", "positive"])
    timings["total"] = time.perf_counter() - t0
    for k, v in timings.items():
        rows.add("timing", f"seconds_{k}", v)
    ins = {"model": model, "vocab": vocab}
    save(r2, _stem(out["r2"]), config, ins)
    save(gap, _stem(out["r2_gap"]), config, ins)
    save(pre_df, _stem(out["preact"]), config, ins)
    save(tow_df, _stem(out["towers"]), config, ins)
    save(dens_df, _stem(out["density"]), config, ins)
    save(months_r2, _stem(out["months_r2"]), config, ins)
    save(strata_df, _stem(out["strata"]), config, ins)
    save(rows.frame(), _stem(out["metrics"]), config, ins)
    log.info("mechanism timings: %s", {k: round(v, 2) for k, v in timings.items()})
    return timings


def _mechanism_spec(t: str) -> dict[str, list[str]]:
    from .words import mechanism_words

    return mechanism_words(t)


def _rank_pct(gap: pd.DataFrame, word: str) -> float:
    """Percentile of the word's Δ rank in the gap table (0 = top); NaN if absent."""
    hit = gap.index[gap["word"] == word]
    if not len(hit) or not len(gap):
        return float("nan")
    return float((gap.loc[hit[0], "rank"] - 1) / len(gap))


def _tower_rows(rows: Rows, t: str, tw: pd.DataFrame) -> None:
    for name in ("correlated", "uncorrelated", "correlated_no_target"):
        g = tw[tw["tower"] == name]
        ctx = g[g["kind"] == "context"]
        st = "ok" if (g["status"] == "ok").all() else "some context words missing"
        rows.add(t, f"tower_{name}_end", float(g["end"].iloc[-1]) if len(g) else np.nan, status=st)
        rows.add(t, f"sum_{name}_context", float(ctx["contribution"].sum(min_count=1)) if len(ctx) else np.nan,
                 status=st)
    m = tw[tw["tower"] == "months"]
    if len(m):
        c = m["contribution"].to_numpy(dtype=float)
        st = "ok" if np.isfinite(c).all() else "some months missing"
        rows.add(t, "months_sum", float(np.nansum(c)), status=st)
        if np.isfinite(c).any():
            k = int(np.nanargmax(c))
            rows.add(t, "months_max", float(c[k]), item=str(m["word"].iloc[k]), status=st)
        for w, v in zip(m["word"], c):
            rows.add(t, "month_contribution", v, item=str(w), status="ok" if np.isfinite(v) else "missing")


# ----------------------------------------------------------------------------------------------------- umap
def run_umap(model: str, vocab: str, out: str, analysis: Mapping[str, Any], tag: str,
             config: Mapping[str, Any] | None = None) -> None:
    """Rule metrics_umap: UMAP layout of the category words plus "Other" words (paper §6.5)."""
    from ..model import load_weights
    from .clusters import umap_layout

    index, _ = load_index(vocab)
    W, _b = load_weights(model)
    _check_v(W, index, model)
    cats = semantic_assignment(index, n_other=int(analysis["umap_other_words"]),
                               seed=int(analysis["seed"]))
    XY = umap_layout(W[:, cats["index"].to_numpy()].T, seed=int(analysis["seed"]))
    df = cats.assign(x=XY[:, 0], y=XY[:, 1])
    save(df, _stem(out), config, {"model": model, "vocab": vocab})


# ----------------------------------------------------------------------------------------------------- sweep
def run_sweep(model_metrics: Sequence[str], data_metrics: str, runs: Sequence[str], out: Mapping[str, str],
              analysis: Mapping[str, Any], tags: Sequence[str], config: Mapping[str, Any] | None = None) -> None:
    """Rule metrics_sweep: concatenate every model's metrics; sweep, losses, loss fits and cluster tables."""
    allm = concat([pd.read_parquet(p) for p in model_metrics] + [pd.read_parquet(data_metrics)])
    sw = analysis["models"]["sweep"]
    sweep, summ = sweep_tables(allm, sw.get("variant", "relu"), float(sw.get("weight_decay", 1.0)))
    specs = [(spec_from_tag(t), r) for t, r in zip(tags, runs)]
    losses = losses_table(specs)
    fits = loss_fits(losses, n_boot=int(analysis["null_permutations"]), seed=int(analysis["seed"]))
    ins = {"models": list(model_metrics)}
    save(allm, _stem(out["all"]), config, ins)
    save(sweep, _stem(out["sweep"]), config, ins)
    save(summ, _stem(out["summary"]), config, ins)
    save(losses, _stem(out["losses"]), config, ins)
    save(fits, _stem(out["loss_fit"]), config, ins)
    save(cluster_table(allm), _stem(out["clusters"]), config, ins)
    if "subspace" in out:
        save(subspace_table(allm, specs), _stem(out["subspace"]), config, ins)


# ----------------------------------------------------------------------------------------------------- criteria
def run_criteria(out: str, config: Mapping[str, Any], vocab: str | None = None, windows_json: str | None = None,
                 data_metrics: str | None = None, metrics_all: str | None = None, months_metrics: str | None = None,
                 mechanism: str | None = None, r2_gap: str | None = None, sweep_summary: str | None = None,
                 clusters: str | None = None, subspace: str | None = None) -> dict[str, Any]:
    """Rule metrics_criteria: criteria.json (paper §10 items 1–16), with provenance embedded."""
    from ..io import provenance, read_json
    from .criteria import Inputs, evaluate

    def pq(p: str | None) -> pd.DataFrame | None:
        return pd.read_parquet(p) if p and Path(p).is_file() else None

    _, vdf = load_index(vocab) if vocab else (None, None)
    inp = Inputs(config, vocab=vdf, windows=read_json(windows_json) if windows_json else None,
                 data_metrics=pq(data_metrics), metrics_all=pq(metrics_all), months_metrics=pq(months_metrics),
                 mechanism=pq(mechanism), r2_gap=pq(r2_gap), sweep=pq(sweep_summary), clusters=pq(clusters),
                 subspace=pq(subspace))
    res = evaluate(inp)
    ins = {k: v for k, v in dict(vocab=vocab, windows=windows_json, data_metrics=data_metrics, metrics_all=metrics_all,
                                  months=months_metrics, mechanism=mechanism, r2_gap=r2_gap, sweep=sweep_summary,
                                  clusters=clusters, subspace=subspace).items() if v}
    res = _json_clean(res)
    res["provenance"] = provenance({"analysis": dict(config["analysis"])}, ins, hash_inputs=False)
    write_json(out, res)
    log.info("criteria: %s", res["summary"])
    return res


def _json_clean(obj: Any) -> Any:
    """Replace NaN/±inf by None (strict JSON for browsers) and numpy scalars by Python ones, recursively."""
    if isinstance(obj, Mapping):
        return {str(k): _json_clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_clean(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj
