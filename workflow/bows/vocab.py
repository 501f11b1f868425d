"""Vocabulary selection, exactly as paper §3.3.

1. Subset: with N train records, n_keep = max(1, round(fraction·N)) and perm = default_rng(seed).permutation(N)
   (what HF ``Dataset.shuffle(seed).select(range(n_keep))`` does), the subset is records perm[:n_keep] in that order.
2. Counts: occurrences of kept tokens (not document frequency) over the subset, updated record by record.
3. Forced tokens: removed from the counts and placed first, in Python-sorted order.
4. The remaining V − |forced| slots: descending count, ties broken by first occurrence in the shuffled token stream
   (``Counter.most_common`` order; chunk counters are merged in stream order, which keeps insertion order).

Written as ``vocab.tsv`` (index, word, count, forced) with a provenance sidecar whose ``key`` hashes every setting
that changes the result (subset, tokeniser, stop list content, forced tokens, V, the train split's content).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError, VocabError
from .io import atomic_path, file_sha256, read_json, sidecar_path, write_sidecar
from .tokenize import TokenizerSpec, _count_chunk, map_chunks
from .wordlists import paper_forced_tokens

__all__ = [
    "read_vocab",
    "write_vocab",
    "subset_indices",
    "select_vocab",
    "forced_tokens",
    "vocab_key",
    "count_subset",
    "build_vocab",
    "workers_for",
]

log = logging.getLogger("bows.vocab")
COLUMNS = ["index", "word", "count", "forced"]


def read_vocab(path: str | os.PathLike) -> pd.DataFrame:
    """``vocab.tsv`` as a DataFrame with columns index, word, count, forced (words read verbatim, "NaN" stays)."""
    path = Path(path)
    if not path.is_file():
        raise VocabError(f"vocabulary {path} does not exist", "build it with `snakemake vocab`")
    df = pd.read_csv(path, sep="\t", keep_default_na=False, quoting=csv.QUOTE_NONE, dtype={"word": str})
    if list(df.columns) != COLUMNS:
        raise VocabError(f"{path} has columns {list(df.columns)}, expected {COLUMNS}", "rebuild it with build_vocab")
    df["forced"] = df["forced"].astype(bool)
    return df


def write_vocab(path: str | os.PathLike, words: Sequence[str], counts: Sequence[int], n_forced: int) -> pd.DataFrame:
    """Write ``vocab.tsv`` atomically."""
    df = pd.DataFrame(
        {
            "index": np.arange(len(words), dtype=np.int64),
            "word": list(words),
            "count": np.asarray(counts, dtype=np.int64),
            "forced": np.arange(len(words)) < n_forced,
        }
    )
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, quoting=csv.QUOTE_NONE, lineterminator="\n")
    return df


def forced_tokens(spec: str | Sequence[str]) -> list[str]:
    """The forced tokens in Python-sorted order; ``"paper"`` = the 39 of the official code."""
    if isinstance(spec, str):
        if spec != "paper":
            raise ConfigError(
                f'vocab.forced_tokens must be a list or "paper", got {spec!r}',
                "write a YAML list of words, [] for none, or paper",
            )
        return paper_forced_tokens()
    bad = [w for w in spec if not w or any(c.isspace() or c == '"' for c in w)]
    if bad:
        raise ConfigError(
            f"vocab.forced_tokens holds empty words or words with whitespace or quotes: {bad}",
            "tokens never contain whitespace; remove or fix these entries",
        )
    return sorted(set(spec))


def subset_indices(n: int, fraction: float, seed: int) -> np.ndarray:
    """perm[:n_keep] with perm = default_rng(seed).permutation(n), n_keep = max(1, round(fraction·n))."""
    n_keep = max(1, round(fraction * n))
    return np.random.default_rng(seed).permutation(n)[:n_keep]


def select_vocab(counter: Counter, size: int, forced: Sequence[str]) -> tuple[list[str], list[int]]:
    """Forced tokens first (sorted), then ``counter.most_common`` without them, up to ``size`` words."""
    forced = sorted(set(forced))
    if len(forced) > size:
        raise VocabError(f"{len(forced)} forced tokens do not fit in a vocabulary of {size}", "raise vocab.size")
    fset = set(forced)
    need = size - len(forced)
    rest = [(w, c) for w, c in counter.most_common() if w not in fset][:need] if need else []
    if len(rest) < need:
        raise VocabError(
            f"the vocabulary subset has only {len(rest)} distinct non-forced tokens, "
            f"{need} are needed for vocab.size={size}",
            "lower vocab.size, raise vocab.fraction or corpus.max_docs, or use a larger corpus",
        )
    words = forced + [w for w, _ in rest]
    counts = [int(counter.get(w, 0)) for w in forced] + [c for _, c in rest]
    return words, counts


def vocab_key(cfg: Mapping[str, Any], train_sha256: str) -> str:
    """Hash of every setting that changes the vocabulary (not ``workers``), and of the train split's content."""
    spec = TokenizerSpec.from_config(cfg)
    payload = {
        "size": int(cfg["size"]),
        "fraction": float(cfg["fraction"]),
        "seed": int(cfg["seed"]),
        "forced": forced_tokens(cfg["forced_tokens"]),
        "tokenizer": spec.key(),
        "train_sha256": train_sha256,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def workers_for(cfg: Mapping[str, Any], threads: int) -> int:
    """Tokenisation processes: ``vocab.workers`` or, when 0, the job's threads."""
    return int(cfg["workers"]) or max(1, int(threads))


def count_subset(texts, cfg: Mapping[str, Any], workers: int = 1, chunk: int = 4096) -> tuple[Counter, int, int]:
    """Token counts over the vocabulary subset of ``texts`` (list or Arrow array). Returns (counts, n_keep, kept)."""
    spec = TokenizerSpec.from_config(cfg)
    idx = subset_indices(len(texts), float(cfg["fraction"]), int(cfg["seed"]))

    def chunks():
        for start in range(0, len(idx), chunk):
            sel = idx[start : start + chunk]
            if hasattr(texts, "take"):
                yield texts.take(sel).to_pylist()
            else:
                yield [texts[i] for i in sel]

    counter: Counter = Counter()
    kept = 0
    for part, n in map_chunks(
        _count_chunk, chunks(), spec, workers, total=(len(idx) + chunk - 1) // chunk, desc="vocab"
    ):
        counter.update(part)  # chunk order = stream order, so insertion order = first occurrence
        kept += n
    return counter, len(idx), kept


def build_vocab(
    train: str | os.PathLike, out: str | os.PathLike, cfg: Mapping[str, Any], threads: int = 1, reuse: bool = False
) -> pd.DataFrame:
    """Rule ``build_vocab``: count the subset of the train split and write ``vocab.tsv`` plus its sidecar.

    With ``reuse``, an existing ``vocab.tsv`` whose sidecar key matches every current setting is kept.
    """
    from .corpus import read_texts

    forced = forced_tokens(cfg["forced_tokens"])
    if len(forced) > int(cfg["size"]):
        raise VocabError(f"{len(forced)} forced tokens do not fit in a vocabulary of {cfg['size']}", "raise vocab.size")
    train_sha = file_sha256(train)
    key = vocab_key(cfg, train_sha)
    side = sidecar_path(out)
    if reuse and Path(out).is_file() and side.is_file() and read_json(side).get("key") == key:
        log.info("reusing %s (same key %s)", out, key[:12])
        return read_vocab(out)
    texts = read_texts(train)
    counter, n_keep, kept = count_subset(texts, cfg, workers_for(cfg, threads))
    log.info("subset of %d / %d records: %d kept tokens, %d distinct", n_keep, len(texts), kept, len(counter))
    words, counts = select_vocab(counter, int(cfg["size"]), forced)
    absent = [w for w in forced if counter.get(w, 0) == 0]
    if absent:
        log.warning("forced tokens absent from the subset (count 0): %s", absent)
    df = write_vocab(out, words, counts, len(forced))
    write_sidecar(
        out,
        {"vocab": dict(cfg)},
        {"train": train},
        key=key,
        stats={
            "train_records": len(texts),
            "subset_records": n_keep,
            "kept_tokens": kept,
            "distinct_tokens": len(counter),
            "forced_absent": absent,
            "coverage": float(sum(counts) / kept) if kept else 0.0,
        },
    )
    return df
