"""Corpus sources (bundled, hf through datasets, local files) and their clear errors."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bows.config import section
from bows.corpus import SPLITS, load_bundled, load_corpus, prepare_corpus, wiki_markup_to_records
from bows.errors import CorpusError
from bows.io import read_json
from conftest import ROOT, snakemake


@pytest.fixture(autouse=True)
def private_hf_cache(tmp_path, monkeypatch):
    """Keep the datasets cache of every test in its own folder (not the user's ~/.cache)."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_cache")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf_cache"))


@pytest.fixture(scope="module")
def bundled():
    return load_bundled(
        section("corpus", {"bundled": {"seed": 42, "validation_fraction": 0.05, "test_fraction": 0.05}})["bundled"]
    )


def test_bundled_is_split_by_article(bundled):
    docs = {s: set(bundled[s].doc.tolist()) for s in SPLITS}
    assert not (docs["train"] & docs["validation"]) and not (docs["train"] & docs["test"])
    assert not (docs["validation"] & docs["test"])
    n = sum(len(bundled[s]) for s in SPLITS)
    assert sorted(docs["train"] | docs["validation"] | docs["test"]) == list(range(n))
    for s in SPLITS:  # every split starts an article: "", " = Title = ", ""
        text = bundled[s].text.slice(0, 3).to_pylist()
        assert text[0] == "" and text[1].startswith(" = ") and text[1].endswith(" = \n") and text[2] == ""
        assert np.all(np.diff(bundled[s].doc) > 0)  # source order within a split
    train = bundled["train"].text.to_pylist()
    assert any(t.startswith(" = = ") for t in train)  # section headings of the enwiki pages
    assert sum(len(t.split()) for t in train) > 900_000  # about a million words of real Wikipedia text
    assert len(bundled["validation"]) > 1000 and len(bundled["test"]) > 1000


def test_bundled_split_is_seeded(bundled):
    other = load_bundled(section("corpus", {"bundled": {"seed": 7, "sources": ["ovos_summaries"]}})["bundled"])
    assert (
        len(other["train"]) > 30_000
        and other["validation"].text.to_pylist()[1] != bundled["validation"].text.to_pylist()[1]
    )


def test_markup_stripping():
    wiki = (
        "{{Infobox|name=x}}'''Alpha''' is a [[Greek alphabet|letter]] used in [[mathematics]].<ref>cite</ref>\n"
        "[[File:A.png|thumb|a [[caption]]]]\n\n== History ==\nIt was &quot;old&quot; [http://x.org site].\n"
        "* a list item\n{| class=x\n| cell\n|}\n== References ==\nIgnored text here.\n"
    )
    recs = wiki_markup_to_records("Alpha", wiki)
    assert recs == [
        "",
        " = Alpha = \n",
        "",
        " Alpha is a letter used in mathematics.\n",
        "",
        " = = History = = \n",
        "",
        ' It was "old" site.\n',
    ]


def _write(path, table):
    pq.write_table(table, path)
    return str(path)


def local_cfg(**kw):
    return section("corpus", {"source": "local", "local": {"validation_fraction": 0.1, "test_fraction": 0.1, **kw}})


LINES = [f"Record number {i} talks about cats and dogs in April." for i in range(50)]


@pytest.mark.parametrize("fmt", ["txt", "jsonl", "parquet", "disk"])
def test_local_formats_and_block_carve(tmp_path, fmt):
    import datasets

    if fmt == "txt":
        path = tmp_path / "c.txt"
        path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    elif fmt == "jsonl":
        path = tmp_path / "c.jsonl"
        path.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(LINES)))
    elif fmt == "parquet":
        path = _write(tmp_path / "c.parquet", pa.table({"text": LINES}))
    else:
        path = tmp_path / "saved"
        datasets.Dataset.from_dict({"text": LINES}).save_to_disk(str(path))
    splits = load_corpus(local_cfg(train=str(path)))
    assert [len(splits[s]) for s in SPLITS] == [40, 5, 5]
    assert splits["train"].text.to_pylist() == LINES[:40]
    assert splits["validation"].doc.tolist() == list(range(40, 45))
    assert splits["test"].text.to_pylist() == LINES[45:]


def test_local_given_heldout_and_max_docs(tmp_path):
    tr = _write(tmp_path / "tr.parquet", pa.table({"body": LINES}))
    va = _write(tmp_path / "va.parquet", pa.table({"body": LINES[:7]}))
    te = _write(tmp_path / "te.parquet", pa.table({"body": LINES[:9]}))
    cfg = local_cfg(train=tr, validation=va, test=te, text_column="body")
    cfg["max_docs"] = 8
    splits = load_corpus(cfg)
    assert [len(splits[s]) for s in SPLITS] == [8, 7, 8]


def test_hf_source_through_datasets(tmp_path, monkeypatch):
    """The hub is unreachable here: route load_dataset to local parquet files, keeping the real code path."""
    import datasets

    real = datasets.load_dataset
    files = {"train": _write(tmp_path / "train.parquet", pa.table({"text": LINES}))}
    calls = []

    def fake(path, name=None, revision=None, split=None, **kw):
        calls.append((path, name, revision, split))
        return real("parquet", data_files={split: files[split]}, split=split)

    monkeypatch.setattr(datasets, "load_dataset", fake)
    hf = {
        "path": "Skylion007/openwebtext",
        "name": None,
        "revision": "refs/convert/parquet",
        "splits": {"validation": None, "test": None},
        "carve": {"validation": 6, "test": 4},
    }
    cfg = section("corpus", {"source": "hf", "hf": hf})
    splits = load_corpus(cfg)
    assert calls == [("Skylion007/openwebtext", None, "refs/convert/parquet", "train")]
    shuffled = real("parquet", data_files={"train": files["train"]}, split="train").shuffle(seed=42)["text"]
    assert splits["validation"].text.to_pylist() == shuffled[:6]
    assert splits["test"].text.to_pylist() == shuffled[6:10]
    assert splits["train"].text.to_pylist() == shuffled[10:]
    assert sorted(np.concatenate([splits[s].doc for s in SPLITS]).tolist()) == list(range(50))
    cfg["hf"]["carve"]["shuffle"] = False
    assert load_corpus(cfg)["test"].doc.tolist() == [46, 47, 48, 49]


def _outs(tmp_path):
    return {s: tmp_path / "out" / f"{s}.parquet" for s in SPLITS}, tmp_path / "out" / "summary.json"


def test_prepare_corpus_writes_normalised_splits(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out, summary = _outs(tmp_path)
    prepare_corpus(local_cfg(train=str(path)), out, summary, group_size=5)
    t = pq.read_table(out["train"])
    assert t.schema.field("doc").type == pa.int64() and pa.types.is_string(t.schema.field("text").type)
    assert read_json(summary)["splits"]["train"]["records"] == 40


@pytest.mark.parametrize("case", ["missing", "empty", "utf8", "column", "small"])
def test_clear_errors_and_no_partial_outputs(tmp_path, case):
    path = tmp_path / "c.txt"
    group = 5
    if case == "missing":
        path = tmp_path / "nope.txt"
        match = "does not exist"
    elif case == "empty":
        path.write_text("", encoding="utf-8")
        match = "too few|empty"
    elif case == "utf8":
        path.write_bytes(("ok line\n" * 10).encode() + b"caf\xe9 latin-1\n")
        match = "UTF-8"
    elif case == "column":
        path = tmp_path / "c.parquet"
        _write(path, pa.table({"body": LINES}))
        match = "no text column 'text'"
    else:
        path.write_text("\n".join(LINES[:40]) + "\n", encoding="utf-8")
        group = 20
        match = "fewer than windows.group_size"
    if case not in ("missing", "column", "utf8", "empty", "small"):
        raise AssertionError(case)
    out, summary = _outs(tmp_path)
    with pytest.raises(CorpusError, match=match):
        prepare_corpus(local_cfg(train=str(path)), out, summary, group_size=group)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ workflow, all sources


def _synthetic_lines(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = ["".join(rng.choice(letters, size=rng.integers(3, 9))) for _ in range(3000)]
    p = 1.0 / np.arange(1, 3001)
    p /= p.sum()
    lines = []
    for i in range(n):
        if i % 7 == 0:
            lines.append(" = Heading = ")
        else:
            lines.append("The " + " ".join(rng.choice(words, size=rng.integers(10, 40), p=p)) + " in May.")
    return lines


@pytest.mark.workflow
@pytest.mark.parametrize("source", ["bundled", "hf", "local"])
def test_workflow_windows_from_every_source(tmp_path, source):

    import yaml

    cfg: dict = {"corpus": {"name": f"t-{source}", "source": source}}
    if source == "hf":  # a dataset folder: load_dataset(path) infers train/validation/test from the file names
        folder = tmp_path / "hfdata"
        folder.mkdir()
        for split, n in (("train", 1200), ("validation", 200), ("test", 200)):
            pq.write_table(pa.table({"text": _synthetic_lines(n, len(split))}), folder / f"{split}.parquet")
        cfg["corpus"]["hf"] = {"path": str(folder), "name": None}
    elif source == "local":
        path = tmp_path / "corpus.txt"
        path.write_text("\n".join(_synthetic_lines(1500, 1)) + "\n", encoding="utf-8")
        cfg["corpus"]["local"] = {"train": str(path)}
    extra = tmp_path / "extra.yaml"
    extra.write_text(yaml.safe_dump(cfg))
    wd = tmp_path / "wd"
    snakemake(
        wd,
        "--cores",
        "2",
        "--configfile",
        str(ROOT / "presets" / "smoke.yaml"),
        str(extra),
        "--",
        "windows",
        configfiles=(),
        timeout=600,
        env={"HF_DATASETS_CACHE": str(tmp_path / "hf_cache")},
    )
    res = wd / "results" / f"t-{source}"
    stats = read_json(res / "V400_G5_S1" / "windows.json")
    assert stats["train_windows"] > 0 and stats["heldout_windows"] > 0
    # G = 5, S = 1: a split of n records has n − 5 + 1 windows; the train split's are train, held-out or margin
    assert all(stats["windows"][s] == stats["records"][s] - 4 > 0 for s in SPLITS)
    parts = stats["train_windows"] + stats["heldout_windows"] + stats["margin_windows"]
    assert parts == stats["windows"]["train"]
    rows = {s: pq.read_metadata(res / "corpus" / f"{s}.parquet").num_rows for s in SPLITS}
    assert rows == stats["records"]  # one record per corpus row
    from bows.vocab import read_vocab

    assert len(read_vocab(res / "V400" / "vocab.tsv")) == 400
