"""Vocabulary selection (paper §3.3): subset, counts, forced tokens, ordering and ties, the cache key."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bows.config import section
from bows.errors import VocabError
from bows.io import read_json, sidecar_path
from bows.vocab import (
    build_vocab,
    count_subset,
    forced_tokens,
    read_vocab,
    select_vocab,
    subset_indices,
    vocab_key,
    write_vocab,
)

CFG = section("vocab", {"size": 8, "fraction": 1.0, "min_chars": 0, "forced_tokens": ["May", "April"], "workers": 1})


def test_subset_matches_hf_shuffle_select():
    import datasets

    n, frac, seed = 1000, 0.2, 42
    ds = datasets.Dataset.from_dict({"i": list(range(n))})
    expected = ds.shuffle(seed=seed).select(range(max(1, round(frac * n))))["i"]
    assert subset_indices(n, frac, seed).tolist() == list(expected)
    assert len(subset_indices(3, 0.01, 0)) == 1  # n_keep = max(1, round(f·N))


def test_forced_first_sorted_then_count_then_first_occurrence():
    c = Counter()
    for w in ["b", "a", "May", "c", "a", "b", "d", "e"]:
        c[w] += 1
    words, counts = select_vocab(c, 6, ["May", "April"])
    # forced in sorted order; then a, b (count 2, b first seen), then c, d (count 1, first occurrence)
    assert words == ["April", "May", "b", "a", "c", "d"]
    assert counts == [0, 1, 2, 2, 1, 1]


def test_too_few_distinct_tokens_is_an_error():
    with pytest.raises(VocabError, match="distinct"):
        select_vocab(Counter({"a": 3, "b": 1}), 5, [])


def test_paper_forced_tokens():
    toks = forced_tokens("paper")
    assert len(toks) == 39 and toks == sorted(toks) and toks[:3] == ["Amphibian", "April", "August"]


def test_parallel_counts_keep_stream_order():
    rng = np.random.default_rng(0)
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(300)]
    texts = [" ".join(rng.choice(words, size=12)) for _ in range(400)]
    cfg = dict(CFG, fraction=0.5)
    c1, n1, k1 = count_subset(texts, cfg, workers=1, chunk=7)
    c2, n2, k2 = count_subset(pa.chunked_array([pa.array(texts)]), cfg, workers=2, chunk=13)
    assert (n1, k1) == (n2, k2) and c1 == c2
    assert list(c1.most_common()) == list(c2.most_common())  # same tie order
    # reference: one sequential pass over the shuffled subset
    ref = Counter()
    for i in subset_indices(len(texts), 0.5, 42):
        ref.update(texts[i].split())
    assert list(ref.most_common()) == list(c1.most_common())


def test_read_write_roundtrip_keeps_odd_words(tmp_path):
    path = tmp_path / "vocab.tsv"
    write_vocab(path, ["NaN", "null", "True", "Beyoncé", "0"], [5, 4, 3, 2, 1], 1)
    df = read_vocab(path)
    assert df["word"].tolist() == ["NaN", "null", "True", "Beyoncé", "0"]
    assert df.columns.tolist() == ["index", "word", "count", "forced"]
    assert df["forced"].tolist() == [True, False, False, False, False]
    assert df["index"].tolist() == list(range(5))


def test_cache_key_covers_every_setting():
    base = vocab_key(CFG, "abc")
    changes = [
        {"size": 9},
        {"fraction": 0.5},
        {"seed": 1},
        {"min_chars": 10},
        {"numbers_max": 5},
        {"lowercase": True},
        {"stopwords": "none"},
        {"forced_tokens": ["May"]},
        {"tokenizer": "nltk"},
    ]
    keys = {vocab_key(dict(CFG, **c), "abc") for c in changes}
    assert base not in keys and len(keys) == len(changes)
    assert vocab_key(CFG, "abd") != base  # the train split's content
    assert vocab_key(dict(CFG, workers=7), "abc") == base  # parallelism does not change the result


def _train(tmp_path, texts):
    path = tmp_path / "train.parquet"
    pq.write_table(pa.table({"doc": pa.array(range(len(texts)), pa.int64()), "text": texts}), path)
    return path


def test_build_vocab_end_to_end(tmp_path):
    texts = ["The cat sat with the dog in May.", "Cats and cats and cats.", "short", "April rain fell, cat."]
    train = _train(tmp_path, texts)
    out = tmp_path / "V" / "vocab.tsv"
    df = build_vocab(train, out, dict(CFG, size=6, min_chars=6))
    assert df["word"].tolist()[:2] == ["April", "May"] and df["forced"].tolist()[:3] == [True, True, False]
    order = subset_indices(4, 1.0, 42).tolist()  # "cat" and "cats" both count 2: first seen in this order wins
    first = "cat" if min(order.index(0), order.index(3)) < order.index(1) else "cats"
    assert df["word"].tolist()[2:4] == [first, ({"cat", "cats"} - {first}).pop()]
    side = read_json(sidecar_path(out))
    assert side["key"] == vocab_key(dict(CFG, size=6, min_chars=6), __import__("bows.io").io.file_sha256(train))
    mtime = out.stat().st_mtime_ns
    build_vocab(train, out, dict(CFG, size=6, min_chars=6), reuse=True)
    assert out.stat().st_mtime_ns == mtime  # same key: reused


def test_bad_forced_tokens_and_too_many():
    from bows.errors import ConfigError

    with pytest.raises(ConfigError, match="whitespace"):
        forced_tokens(["ok", "two words"])
    with pytest.raises(VocabError, match="do not fit"):
        select_vocab(Counter({"a": 1}), 1, ["x", "y"])
