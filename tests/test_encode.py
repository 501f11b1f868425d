"""Documents as CSR token ids: known answers, dtypes, memory-mapped round trip."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bows.config import section
from bows.encode import Docs, encode_docs, encode_texts, ids_dtype, load_docs, save_docs
from bows.errors import CorpusError
from bows.tokenize import TokenizerSpec
from bows.vocab import write_vocab

SPEC = TokenizerSpec.default(min_chars=10)
VOCAB = ["April", "cat", "dog", "The", "100"]


def test_known_ids_sorted_unique_and_short_slots():
    texts = ["The dog saw the cat and a dog.", "short", "", "Nothing known here at all", "100 cats saw April."]
    docs, stats = encode_texts(texts, VOCAB, SPEC)
    assert docs.n_docs == 5 and docs.indices.dtype == np.uint16
    assert docs.doc(0).tolist() == [1, 2, 3]  # cat, dog, The (sorted unique ids)
    assert docs.doc(1).tolist() == [] and docs.doc(2).tolist() == [] and docs.doc(3).tolist() == []
    assert docs.doc(4).tolist() == [0, 4]  # April, "100" ("cats" is not in the vocabulary)
    assert docs.indptr.tolist() == [0, 3, 3, 3, 3, 5]
    assert stats["empty_docs"] == 3 and stats["records"] == 5


def test_ids_dtype():
    assert ids_dtype(65535) == np.uint16 and ids_dtype(65536) == np.int32


def test_parallel_equals_serial():
    rng = np.random.default_rng(1)
    words = ["The", "cat", "dog", "April", "bird", "tree", "100", "7"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 30))) for _ in range(300)]
    a, _ = encode_texts(texts, words, SPEC, workers=1, chunk=16)
    b, _ = encode_texts(pa.chunked_array([pa.array(texts)]), words, SPEC, workers=2, chunk=31)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)


def test_save_load_mmap_roundtrip(tmp_path):
    docs = Docs(np.array([0, 2, 2, 5]), np.array([1, 4, 0, 2, 3], dtype=np.uint16), 5)
    save_docs(tmp_path / "d" / "train", docs, {"stats": {}})
    back = load_docs(tmp_path / "d" / "train")
    assert isinstance(back.indices, np.memmap) and back.indices.dtype == np.uint16
    assert back.indptr.dtype == np.int64 and back.n_docs == 3 and back.vocab_size == 5
    assert back.doc(2).tolist() == [0, 2, 3] and back.doc(-2).tolist() == []
    back.validate()
    with pytest.raises(CorpusError):
        load_docs(tmp_path / "d" / "missing")


def test_encode_docs_rule_function(tmp_path):
    corpus = tmp_path / "train.parquet"
    texts = ["The dog and the cat in April.", "", "cat cat cat cat cat cat"]
    pq.write_table(pa.table({"doc": pa.array([0, 1, 2], pa.int64()), "text": texts}), corpus)
    write_vocab(tmp_path / "vocab.tsv", VOCAB, [1] * 5, 1)
    docs = encode_docs(corpus, tmp_path / "vocab.tsv", tmp_path / "docs" / "train", section("vocab", {"min_chars": 10}))
    assert [docs.doc(i).tolist() for i in range(3)] == [[0, 1, 2, 3], [], [1]]
    assert load_docs(tmp_path / "docs" / "train").n_docs == 3
