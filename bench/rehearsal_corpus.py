"""A WikiText-103-shaped corpus for the paper-shape rehearsal (presets/rehearsal.yaml), written as local text files.

    .venv/bin/python bench/rehearsal_corpus.py rehearsal/corpus [--train-records 1801350]

Writes ``train.txt``, ``validation.txt`` and ``test.txt`` (one record per line, as the HF rows of
wikitext-103-raw-v1: 1,801,350 / 3,760 / 4,358 records) into the folder. The records have WikiText's layout: an
article is a title line `` = Title = ``, then sections `` = = Heading = = ``, each followed by paragraphs; every
heading and paragraph is followed by an empty record, so about 60 % of the records are shorter than 50 characters
(they take window slots but give no tokens) and 20 records hold about 6-10 paragraphs. Paragraphs are built from
sentences of the bundled Wikipedia text (``corpus.bundled``), an article's sentences taken consecutively from one
random place, so that words co-occur topically; lengths are drawn around WikiText's ≈ 750 characters per paragraph.

The text is real English but re-assembled: it has the paper's shape (records, empties, window sizes, Zipfian words),
not its statistics, so the rehearsal measures time and memory, not the paper's findings. Seeded: same files every
run.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from bows.config import section  # noqa: E402
from bows.corpus import load_bundled  # noqa: E402
from bows.io import atomic_path  # noqa: E402

#: Record counts of Salesforce/wikitext, wikitext-103-raw-v1 (dataset card).
SPLIT_RECORDS = {"train": 1_801_350, "validation": 3_760, "test": 4_358}
PARAGRAPH_CHARS = 750  # mean characters of a paragraph record
SECTIONS = (2, 8)  # sections per article (uniform)
PARAGRAPHS = (1, 6)  # paragraphs per section (uniform)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentences(seed: int = 42) -> list[str]:
    """The bundled corpus's sentences (≥ 5 words), in source order."""
    bundled = {
        "sources": ["gensim_enwiki", "ovos_summaries"],
        "seed": seed,
        "validation_fraction": 0.0,
        "test_fraction": 0.0,
    }
    texts = load_bundled(section("corpus", {"bundled": bundled})["bundled"])["train"].text.to_pylist()
    out = [s.strip() for t in texts for s in _SENTENCE.split(t or "")]
    return [s for s in out if s.count(" ") >= 4]


def paragraph(pool: list[str], pos: int, rng: np.random.Generator) -> tuple[str, int]:
    """A paragraph of consecutive sentences from ``pos`` (wrapping), about PARAGRAPH_CHARS long; the next pos."""
    target = rng.gamma(2.0, PARAGRAPH_CHARS / 2.0)
    parts, size = [], 0
    while size < target or not parts:
        s = pool[pos % len(pool)]
        parts.append(s)
        size += len(s) + 1
        pos += 1
    return " " + " ".join(parts) + " ", pos


def title(pool: list[str], pos: int, level: int) -> str:
    words = pool[pos % len(pool)].split()[:3]
    marks = " ".join(["="] * level)
    return f" {marks} {' '.join(words)} {marks} "


def article(pool: list[str], rng: np.random.Generator) -> list[str]:
    """The records of one article: title, sections of paragraphs, each heading and paragraph + an empty record."""
    pos = int(rng.integers(len(pool)))
    recs = [title(pool, pos, 1), ""]
    for _ in range(int(rng.integers(*SECTIONS))):
        recs += [title(pool, pos + 1, 2), ""]
        for _ in range(int(rng.integers(*PARAGRAPHS))):
            text, pos = paragraph(pool, pos, rng)
            recs += [text, ""]
    return recs


def write_split(path: Path, n_records: int, pool: list[str], rng: np.random.Generator) -> None:
    """``n_records`` lines of whole articles (the last one cut) to ``path``, atomically."""
    written = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        while written < n_records:
            recs = article(pool, rng)[: n_records - written]
            fh.write("\n".join(recs) + "\n")
            written += len(recs)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--train-records", type=int, default=SPLIT_RECORDS["train"])
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    pool = sentences(args.seed)
    rng = np.random.default_rng(args.seed)
    args.folder.mkdir(parents=True, exist_ok=True)
    counts = {**SPLIT_RECORDS, "train": args.train_records}
    for split, n in counts.items():
        write_split(args.folder / f"{split}.txt", n, pool, rng)
        print(f"{args.folder / f'{split}.txt'}: {n} records", flush=True)


if __name__ == "__main__":
    main()
