"""Rule metrics_mechanism: per-word R² (context, one-hot, linear decoders), strata, months R², pre-activations
and towers of the mechanism targets (paper §6.6–6.8).

The job runs in two steps: :func:`measure` loads the model, finds the targets in its vocabulary, fits the
least-squares decoder from h = Wx on a sample of training windows and makes one pass over the held-out windows
(every word's R², the targets' pre-activations); :func:`mechanism_tables` builds the tables, one per name of
:data:`STAGE`, from that :class:`Measurement`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..grid import ModelSpec
from ..metrics.tables import Rows, save
from ..metrics.words import WordIndex
from ..stage import Job, Section, Stage
from .common import sample

log = logging.getLogger("bows.metrics")

# the analysis settings (thresholds only matter to the criteria; models names the mechanism model) and the windows
# (the encoding only changes what a model is trained on: R² is measured on binary windows)
STAGE = Stage(
    __name__,
    tables=("r2", "r2_gap", "preact", "density", "towers", "months_r2", "strata", "metrics"),
    sections=(
        Section("analysis", without=("thresholds",)),
        Section("windows", without=("encoding", "exclude_cooccurrence")),
    ),
)

STRATA = ("linear", "nonlinear", "not_represented", "undefined")
BATCH_SIZE = 512  # windows per dense batch of the decoder fit and the held-out pass
PREACT_COLUMNS = ["target", "window", "z", "x_hat", "onehot_z", "better_than_onehot"]
TOWER_COLUMNS = ["target", "tower", "step", "word", "kind", "contribution", "start", "end", "status"]
DENSITY_COLUMNS = ["target", "z", "density", "positive"]
MONTHS_R2_COLUMNS = ["protocol", "word", "r2", "status"]


class Stopwatch:
    """Seconds of consecutive steps (:meth:`lap`) and of the whole job (:meth:`stop`, as ``total``)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self.start = self.last = clock()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = self.clock()
        self.laps[name] = now - self.last
        self.last = now

    def stop(self) -> dict[str, float]:
        return {**self.laps, "total": self.clock() - self.start}


@dataclass(frozen=True)
class WindowBatches:
    """Dense [B, V] float32 batches over chosen windows of several splits, re-iterable; ``len`` counts windows."""

    parts: tuple[tuple[Any, np.ndarray], ...]  # (bows.windows.Windows of a split, indices of its chosen windows)
    batch_size: int = BATCH_SIZE

    def __len__(self) -> int:
        return sum(len(chosen) for _, chosen in self.parts)

    def __iter__(self) -> Iterator[np.ndarray]:
        for windows, chosen in self.parts:
            for start in range(0, len(chosen), self.batch_size):
                yield windows.dense_array(chosen[start : start + self.batch_size])


def heldout_batches(
    docs_list: Sequence[Any], group_size: int, stride: int, cap: int | None, seed: int, batch_size: int = BATCH_SIZE
) -> WindowBatches:
    """Every window of the given splits' documents, or a seeded sample of ``cap`` of them over all splits."""
    from ..windows import Windows

    splits = [Windows(docs, group_size, stride) for docs in docs_list]
    chosen = [np.arange(len(windows), dtype=np.int64) for windows in splits]
    total = sum(len(windows) for windows in splits)
    if cap is not None and total > cap:
        keep, offset, chosen = sample(total, cap, seed), 0, []
        for windows in splits:
            chosen.append(keep[(keep >= offset) & (keep < offset + len(windows))] - offset)
            offset += len(windows)
    return WindowBatches(tuple(zip(splits, chosen)), batch_size)


def fit_decoder(
    W: np.ndarray, train_docs: str, train_windows: str, group_size: int, stride: int, n: int, seed: int
) -> tuple[np.ndarray, int]:
    """Least-squares linear decoder from h = Wx, fitted on a seeded sample of ``n`` training windows; returns it
    and the number of windows it saw."""
    from ..encode import load_docs
    from ..metrics.r2 import fit_linear_decoder
    from ..windows import Windows

    chosen = np.load(train_windows).astype(np.int64)
    chosen = chosen[sample(chosen.size, n, seed)]
    windows = Windows(load_docs(train_docs), group_size, stride)
    batches = (windows.dense_array(chosen[s : s + BATCH_SIZE]) for s in range(0, chosen.size, BATCH_SIZE))
    return fit_linear_decoder(W, batches), int(chosen.size)


def find_targets(index: WordIndex, targets: Sequence[str]) -> dict[str, int]:
    """Vocabulary index of each mechanism target (case-insensitive; -1 with a warning when absent)."""
    found = {target: index.lookup(target, case_insensitive=True) for target in targets}
    for target, i in found.items():
        if i < 0:
            log.warning("mechanism target %r is not in the vocabulary: its rows are NaN with a status", target)
    return found


def months_readout_group(months: Any) -> dict[str, np.ndarray]:
    """The found months, for the group-restricted tied read-out (none when fewer than two are found)."""
    if months is None or months.found.sum() < 2:
        return {}
    return {"Months": months.indices[months.found]}


@dataclass(frozen=True)
class Measurement:
    """One model measured on the held-out windows: what every table of the stage is built from."""

    W: np.ndarray
    b: np.ndarray
    index: WordIndex
    months: Any  # the resolved Months group (bows.metrics.words.Group), or None
    targets: dict[str, int]  # mechanism target → vocabulary index (-1: not in the vocabulary)
    stats: Any  # bows.metrics.r2.R2Stats of the held-out windows
    onehot_r2: np.ndarray
    decoder_fit_windows: int

    @property
    def month_context(self) -> list[tuple[str, int]]:
        """(month, index) of every month, for Christmas' months tower."""
        if self.months is None:
            return []
        return [(word, int(i)) for word, i in zip(self.months.words, self.months.indices)]


def r2_table(index: WordIndex, stats: Any, onehot_r2: np.ndarray, threshold: float) -> pd.DataFrame:
    """Per word: frequency, context / one-hot / linear-decoder R², their gap and the strata of both decoders."""
    from ..metrics.r2 import strata

    r2 = pd.DataFrame(
        {
            "idx": np.arange(len(index)),
            "word": index.words,
            "freq_count": stats.freq_count,
            "freq_rate": stats.freq_count / max(stats.n_windows, 1),
            "r2_ctx": stats.r2_ctx,
            "r2_onehot": onehot_r2,
        }
    )
    r2["delta"] = r2["r2_ctx"] - r2["r2_onehot"]
    r2["r2_lin_tied"] = stats.r2_tied
    r2["r2_lin_ls"] = stats.r2_ls
    r2["stratum"] = strata(stats.r2_ctx, stats.r2_ls, threshold)
    r2["stratum_tied"] = strata(stats.r2_ctx, stats.r2_tied, threshold)
    return r2


def gap_table(r2: pd.DataFrame) -> pd.DataFrame:
    """Words ranked by the context-over-one-hot R² gap (ties: more frequent first, then alphabetical)."""
    defined = r2[np.isfinite(r2["r2_ctx"]) & np.isfinite(r2["r2_onehot"])]
    ranked = defined.sort_values(["delta", "freq_count", "word"], ascending=[False, False, True], kind="stable")
    columns = ("word", "freq_count", "r2_ctx", "r2_onehot", "delta")
    return pd.DataFrame({"rank": np.arange(1, len(ranked) + 1), **{name: ranked[name].to_numpy() for name in columns}})


def strata_table(r2: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Words and median frequency of each stratum, for the least-squares and the tied linear decoder."""
    rows = []
    for decoder, column in (("lstsq_h", "stratum"), ("tied_linear", "stratum_tied")):
        for name in STRATA:
            members = r2[column] == name
            median = float(r2.loc[members, "freq_count"].median()) if members.any() else np.nan
            rows.append(
                {
                    "decoder": decoder,
                    "stratum": name,
                    "n_words": int(members.sum()),
                    "median_freq": median,
                    "threshold": threshold,
                }
            )
    return pd.DataFrame(rows)


def add_heldout_rows(rows: Rows, stats: Any, r2: pd.DataFrame, decoder_fit_windows: int) -> None:
    """Summary rows of the held-out pass: window counts and mean R² over the words where both are defined."""
    rows.add("heldout", "n_windows", stats.n_windows)
    rows.add("heldout", "decoder_fit_windows", decoder_fit_windows)
    defined = np.isfinite(r2["r2_ctx"]) & np.isfinite(r2["r2_onehot"])
    for column in ("r2_ctx", "r2_onehot"):
        mean = float(r2.loc[defined, column].mean()) if defined.any() else np.nan
        rows.add("heldout", f"{column}_mean", mean)


def _month_status(found: bool, r2: float) -> str:
    if not found:
        return "missing: word not in vocabulary"
    return "ok" if np.isfinite(r2) else "undefined: word never occurs"


def months_r2_table(months: Any, stats: Any, rows: Rows) -> pd.DataFrame:
    """Months R² under both protocols (§6.8(1)), one row per month and protocol; summary rows into ``rows``."""
    if months is None:
        return pd.DataFrame([], columns=MONTHS_R2_COLUMNS)
    found = months.found
    protocols = (
        ("tied_linear", stats.group_tied.get("Months")),
        ("lstsq_h", stats.r2_ls[months.indices[found]] if found.any() else None),
    )
    table = []
    for protocol, values in protocols:
        per_month = np.full(len(months.words), np.nan)
        if values is not None:
            per_month[found] = values
        for word, r2, is_found in zip(months.words, per_month, found):
            table.append({"protocol": protocol, "word": word, "r2": r2, "status": _month_status(is_found, r2)})
        finite = per_month[np.isfinite(per_month)]
        rows.add("Months", "r2_mean", float(finite.mean()) if finite.size else np.nan, item=protocol)
        rows.add("Months", "r2_sd", float(finite.std(ddof=1)) if finite.size > 1 else np.nan, item=protocol)
        rows.add("Months", "r2_min", float(finite.min()) if finite.size else np.nan, item=protocol)
        rows.add("Months", "n_finite", finite.size, item=protocol)
    return pd.DataFrame(table, columns=MONTHS_R2_COLUMNS)


def delta_rank_percentile(gap: pd.DataFrame, word: str) -> float:
    """Percentile of the word's Δ rank in the gap table (0 = top); NaN if absent."""
    hit = gap.index[gap["word"] == word]
    if not len(hit) or not len(gap):
        return float("nan")
    return float((gap.loc[hit[0], "rank"] - 1) / len(gap))


def add_tower_rows(rows: Rows, target: str, towers: pd.DataFrame) -> None:
    """Summary rows of a target's towers: each tower's end, its context sum, and the months' contributions."""
    for name in ("correlated", "uncorrelated", "correlated_no_target"):
        tower = towers[towers["tower"] == name]
        context = tower[tower["kind"] == "context"]
        status = "ok" if (tower["status"] == "ok").all() else "some context words missing"
        end = float(tower["end"].iloc[-1]) if len(tower) else np.nan
        context_sum = float(context["contribution"].sum(min_count=1)) if len(context) else np.nan
        rows.add(target, f"tower_{name}_end", end, status=status)
        rows.add(target, f"sum_{name}_context", context_sum, status=status)
    months = towers[towers["tower"] == "months"]
    if not len(months):
        return
    contributions = months["contribution"].to_numpy(dtype=float)
    status = "ok" if np.isfinite(contributions).all() else "some months missing"
    rows.add(target, "months_sum", float(np.nansum(contributions)), status=status)
    if np.isfinite(contributions).any():
        largest = int(np.nanargmax(contributions))
        month = str(months["word"].iloc[largest])
        rows.add(target, "months_max", float(contributions[largest]), item=month, status=status)
    for word, value in zip(months["word"], contributions):
        rows.add(target, "month_contribution", value, item=str(word), status="ok" if np.isfinite(value) else "missing")


def target_towers(measured: Measurement, target: str, i: int) -> pd.DataFrame:
    """The cumulative towers of one target: its correlated and uncorrelated context words (and, for Christmas,
    the months)."""
    from ..metrics.mechanism import towers_for_target
    from ..metrics.words import mechanism_words

    words = mechanism_words(target)
    correlated = [(w, measured.index.lookup(w, case_insensitive=True)) for w in words["correlated"]]
    uncorrelated = [(w, measured.index.lookup(w, case_insensitive=True)) for w in words["uncorrelated"]]
    months = measured.month_context if target.lower() == "christmas" else None
    return towers_for_target(measured.W, measured.b, i, target, correlated, uncorrelated, months)


def target_tables(
    measured: Measurement, gap: pd.DataFrame, target: str, i: int, rows: Rows
) -> tuple[pd.DataFrame, ...]:
    """Pre-activations, towers and density of one target found in the vocabulary; its summary rows go into
    ``rows``."""
    from ..metrics.mechanism import better_than_onehot, preact_density, preact_summary

    towers = target_towers(measured, target, i)
    z = measured.stats.preacts.get(i, np.zeros(0))
    onehot_z = float(np.dot(measured.W[:, i].astype(np.float64), measured.W[:, i]) + measured.b[i])
    summary = preact_summary(z, onehot_z)
    bias = float(measured.b[i])
    r2_ctx, r2_onehot = float(measured.stats.r2_ctx[i]), float(measured.onehot_r2[i])
    values = {
        **summary,
        "onehot_z": onehot_z,
        "bias": bias,
        "self": onehot_z - bias,
        "r2_ctx": r2_ctx,
        "r2_onehot": r2_onehot,
        "delta": float(measured.stats.r2_ctx[i] - measured.onehot_r2[i]),
        "delta_rank_pct": delta_rank_percentile(gap, target),
    }
    rows.add_many(target, values, status="ok" if summary["n_windows"] else "rare: target in no held-out window")
    add_tower_rows(rows, target, towers)
    grid, density = preact_density(z)
    preacts = pd.DataFrame(
        {
            "target": target,
            "window": np.arange(z.size),
            "z": z,
            "x_hat": np.maximum(z, 0),
            "onehot_z": onehot_z,
            "better_than_onehot": better_than_onehot(z, onehot_z),
        }
    )
    return preacts, towers, pd.DataFrame({"target": target, "z": grid, "density": density, "positive": grid > 0})


def every_target_table(
    measured: Measurement, gap: pd.DataFrame, targets: Sequence[str], rows: Rows
) -> dict[str, pd.DataFrame]:
    """The preact, towers and density tables over every target (a missing target has one NaN row with a status)."""
    parts: dict[str, list[pd.DataFrame]] = {"preact": [], "towers": [], "density": []}
    for target in targets:
        i = measured.targets[target]
        if i < 0:
            rows.add(target, "n_windows", np.nan, status="missing: target not in vocabulary")
            continue
        for name, table in zip(parts, target_tables(measured, gap, target, i, rows)):
            parts[name].append(table)
    columns = {"preact": PREACT_COLUMNS, "towers": TOWER_COLUMNS, "density": DENSITY_COLUMNS}
    return {name: _concat(tables, columns[name]) for name, tables in parts.items()}


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def measure(
    model: str,
    vocab: str,
    heldout_docs: Sequence[str],
    train_docs: str,
    train_windows: str,
    config: Mapping[str, Any],
    clock: Stopwatch,
) -> Measurement:
    """Load the model and find the targets, fit the decoder on training windows, then one pass over the held-out
    windows (every word's R² and the targets' pre-activations) and the one-hot R²; ``clock`` times each step."""
    from ..encode import load_docs
    from ..errors import CorpusError
    from ..metrics.r2 import onehot_r2, reconstruction_stats
    from .common import load_model

    analysis, windows = config["analysis"], config["windows"]
    group_size, stride, seed = int(windows["group_size"]), int(windows["stride"]), int(analysis["seed"])
    index, groups, W, b = load_model(model, vocab, analysis)
    targets = find_targets(index, analysis["mechanism_targets"])
    months = groups.get("Months")
    docs = [load_docs(prefix) for prefix in heldout_docs]
    heldout = heldout_batches(docs, group_size, stride, analysis["heldout_windows"], seed)
    if not len(heldout):
        raise CorpusError(
            "no held-out windows in the validation/test splits",
            f"the held-out splits need at least group_size={group_size} records",
        )
    fit_windows = int(analysis["decoder_fit_windows"])
    decoder, n_fit = fit_decoder(W, train_docs, train_windows, group_size, stride, fit_windows, seed + 1)
    clock.lap("decoder_fit")
    kept = [i for i in targets.values() if i >= 0]
    stats = reconstruction_stats(W, b, heldout, decoder=decoder, targets=kept, groups=months_readout_group(months))
    clock.lap("heldout_pass")
    onehot = onehot_r2(W, b)
    clock.lap("onehot")
    return Measurement(W, b, index, months, targets, stats, onehot, n_fit)


def mechanism_tables(measured: Measurement, analysis: Mapping[str, Any], rows: Rows) -> dict[str, pd.DataFrame]:
    """Every table of the stage but ``metrics``, whose rows go into ``rows``."""
    threshold = float(analysis["strata_threshold"])
    r2 = r2_table(measured.index, measured.stats, measured.onehot_r2, threshold)
    gap = gap_table(r2)
    add_heldout_rows(rows, measured.stats, r2, measured.decoder_fit_windows)
    tables = {"r2": r2, "r2_gap": gap, "months_r2": months_r2_table(measured.months, measured.stats, rows)}
    tables["strata"] = strata_table(r2, threshold)
    tables.update(every_target_table(measured, gap, analysis["mechanism_targets"], rows))
    return tables


def run_mechanism(
    model: str,
    vocab: str,
    heldout_docs: Sequence[str],
    train_docs: str,
    train_windows: str,
    out: Mapping[str, str],
    spec: ModelSpec,
    config: Mapping[str, Any],
) -> dict[str, float]:
    """Every mechanism table of the model ``spec`` (file ``model``): R² over the windows of the held-out document
    prefixes, the decoder fitted on ``train_windows`` of ``train_docs``. ``config`` holds the ``analysis`` and
    ``windows`` sections (:data:`STAGE`; a whole validated config also serves). Returns the seconds of each step,
    also written as ``timing`` rows."""
    config = STAGE.config_slice(config)
    clock = Stopwatch()
    measured = measure(model, vocab, heldout_docs, train_docs, train_windows, config, clock)
    rows = Rows(spec)
    tables = mechanism_tables(measured, config["analysis"], rows)
    timings = clock.stop()
    for name, seconds in timings.items():
        rows.add("timing", f"seconds_{name}", seconds)
    tables["metrics"] = rows.frame()
    for name in STAGE.tables:
        save(tables[name], out[name], config, {"model": model, "vocab": vocab})
    log.info("mechanism timings: %s", {k: round(v, 2) for k, v in timings.items()})
    return timings


def run(job: Job) -> None:
    """Rule metrics_mechanism: the mechanism tables of ``analysis.models.mechanism``."""
    from ..encode import docs_prefix
    from ..grid import model_ref

    run_mechanism(
        model=job.input.model,
        vocab=job.input.vocab,
        heldout_docs=[docs_prefix(path) for path in job.input.heldout],
        train_docs=docs_prefix(job.input.train),
        train_windows=job.input.train_windows,
        out=job.tables(STAGE.tables),
        spec=model_ref(job.config["analysis"]["models"]["mechanism"]),
        config=job.config,
    )
