"""Virtual windows: unions against brute force, counts, held-out blocks without shared records."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from bows.encode import Docs, save_docs
from bows.errors import CorpusError
from bows.windows import Windows, index_windows, load_window_split, n_windows, split_windows
from hypothesis import given, settings
from hypothesis import strategies as st


def random_docs(rng: np.random.Generator, n: int, V: int, max_len: int = 6) -> tuple[Docs, list[list[int]]]:
    rows = [sorted(set(rng.integers(0, V, size=rng.integers(0, max_len + 1)).tolist())) for _ in range(n)]
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.array([j for r in rows for j in r], dtype=np.uint16)
    return Docs(indptr, indices, V), rows


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40), V=st.integers(1, 30), G=st.integers(1, 8), S=st.integers(1, 4), seed=st.integers(0, 2**31 - 1)
)
def test_windows_match_brute_force(n, V, G, S, seed):
    rng = np.random.default_rng(seed)
    docs, rows = random_docs(rng, n, V)
    win = Windows(docs, G, S)
    expected = [sorted(set().union(*[set(rows[i]) for i in range(w * S, w * S + G)])) for w in range(len(win))]
    assert len(win) == len(expected) == n_windows(n, G, S)
    if not expected:
        return
    idx = rng.integers(0, len(win), size=rng.integers(1, 12))
    offsets, cols = win.batch_csr(idx)
    assert offsets.dtype == np.int64 and cols.dtype == np.int64 and len(offsets) == len(idx) + 1
    got = [cols[offsets[b] : offsets[b + 1]].tolist() for b in range(len(idx))]
    assert got == [expected[w] for w in idx]
    dense = win.dense(idx)
    ref = torch.zeros(len(idx), V)
    for b, w in enumerate(idx):
        ref[b, expected[w]] = 1.0
    assert torch.equal(dense, ref)
    w = int(idx[0])
    assert win.ids(w).tolist() == expected[w] and win.ids(w).dtype == np.int64


def test_window_counts():
    docs, _ = random_docs(np.random.default_rng(0), 100, 10)
    assert len(Windows(docs, 20)) == 81  # N − G + 1
    assert len(Windows(docs, 20, 5)) == 17  # ⌊(100 − 20)/5⌋ + 1
    assert len(Windows(docs, 101)) == 0
    # WikiText-103: 1,801,350 / 3,760 / 4,358 records give 1,801,331 / 3,741 / 4,339 windows (paper §3.4)
    assert [n_windows(n, 20) for n in (1_801_350, 3_760, 4_358)] == [1_801_331, 3_741, 4_339]
    with pytest.raises(IndexError):
        Windows(docs, 20).batch_csr(np.array([81]))


def test_empty_batch_and_dense_dtype():
    docs, _ = random_docs(np.random.default_rng(0), 30, 10)
    win = Windows(docs, 5)
    offsets, cols = win.batch_csr(np.array([], dtype=np.int64))
    assert offsets.tolist() == [0] and cols.size == 0
    assert win.dense([0, 1], dtype=torch.bool).dtype == torch.bool


@pytest.mark.parametrize("G,S", [(20, 1), (5, 1), (6, 4), (3, 5)])
def test_heldout_blocks_share_no_record(G, S):
    n = 2000
    tr, ho = split_windows(n, G, S, 0.1, 7, seed=3)
    assert len(np.intersect1d(tr, ho)) == 0
    assert abs(len(ho) - 0.1 * n) <= 7
    # contiguous blocks: exactly 7 runs
    assert int(np.sum(np.diff(ho) > 1)) + 1 == 7
    # no record in common: record ranges [wS, wS+G) of the two sets are disjoint
    rec_ho = np.zeros(n * S + G, bool)
    for w in ho:
        rec_ho[w * S : w * S + G] = True
    assert not any(rec_ho[w * S : w * S + G].any() for w in tr)
    # only the margins are lost: ⌈G/S⌉ − 1 windows on each side of each block
    gap = -(-G // S) - 1
    assert n - len(tr) - len(ho) <= 2 * gap * 7
    assert split_windows(n, G, S, 0.1, 7, seed=3)[1].tolist() == ho.tolist()  # seeded


def test_heldout_too_small_is_an_error():
    with pytest.raises(CorpusError, match="heldout_blocks"):
        split_windows(50, 20, 1, 0.1, 10, 0)
    tr, ho = split_windows(50, 20, 1, 0.0, 10, 0)
    assert len(tr) == 50 and len(ho) == 0


def test_index_windows_end_to_end(tmp_path):
    rng = np.random.default_rng(5)
    prefixes = {}
    for split, n in (("train", 400), ("validation", 60), ("test", 70)):
        docs, _ = random_docs(rng, n, 50)
        save_docs(tmp_path / "docs" / split, docs)
        prefixes[split] = tmp_path / "docs" / split
    cfg = {"group_size": 5, "stride": 1, "heldout_fraction": 0.1, "heldout_blocks": 4, "seed": 42}
    stats = index_windows(prefixes, tmp_path / "win", cfg)
    tr, ho = load_window_split(tmp_path / "win")
    assert stats["windows"] == {"train": 396, "validation": 56, "test": 66}
    assert stats["train_windows"] == len(tr) and stats["heldout_windows"] == len(ho) and len(ho) > 0
    # index: 8 bytes per train or held-out window id; spread, with the records, over the 396 train-split windows
    assert stats["bytes_index"] == 8 * (len(tr) + len(ho))
    assert stats["bytes_per_train_window"] == pytest.approx((stats["bytes_docs"] + 8 * (len(tr) + len(ho))) / 396)
    with pytest.raises(CorpusError):
        load_window_split(tmp_path / "nowhere")


def test_batch_csr_equals_the_union_of_the_window_documents():
    docs, _ = random_docs(np.random.default_rng(2), 300, 40, max_len=12)
    win = Windows(docs, 7, 2)
    idx = np.random.default_rng(3).integers(0, len(win), size=50)
    offsets, cols = win.batch_csr(idx)
    for r, w in enumerate(idx):
        expect = np.unique(np.concatenate([docs.doc(d) for d in range(2 * w, 2 * w + 7)]).astype(np.int64))
        assert np.array_equal(cols[offsets[r] : offsets[r + 1]], expect)
