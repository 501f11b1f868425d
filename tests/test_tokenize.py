"""Tokenisation known answers (paper §3.2) and agreement of the two engines."""

from __future__ import annotations

from collections import Counter

import pytest
from bows.tokenize import Tokenizer, TokenizerSpec


def make(engine: str = "fast", **kw) -> Tokenizer:
    return Tokenizer(TokenizerSpec.default(**{"min_chars": 0, "tokenizer": engine, **kw}))


ENGINES = ["fast", "nltk"]


@pytest.mark.parametrize("engine", ENGINES)
def test_capitalised_stop_words_survive(engine):
    tok = make(engine)
    assert tok("The cat sat on the mat. In it, I was there.") == ["The", "cat", "sat", "mat", "In", "I"]


@pytest.mark.parametrize("engine", ENGINES)
def test_abbreviations_hyphens_numbers(engine):
    tok = make(engine)
    out = tok("The U.S. sent 0 e-mail messages, then 100 and 101 letters in 1999 or 3.5 days.")
    assert "U.S." not in out and "U.S" not in out and "e-mail" not in out
    assert out == ["The", "sent", "0", "messages", "100", "letters", "days"]


@pytest.mark.parametrize("engine", ENGINES)
def test_unicode_letters_and_contractions(engine):
    tok = make(engine)
    assert tok("Beyoncé didn't sing at the café.") == ["Beyoncé", "sing", "café"]


@pytest.mark.parametrize("engine", ENGINES)
def test_sentence_final_period_is_split(engine):
    tok = make(engine)
    # the last word of every sentence loses its period (kept), initials and numbers before lowercase stay whole
    assert tok("Bach was born. J. S. Bach wrote music. He was 5. then older.") == [
        "Bach",
        "born",
        "Bach",
        "wrote",
        "music",
        "He",
        "older",
    ]


def test_short_records_give_no_tokens():
    tok = make(min_chars=50)
    short = " = Title = \n"
    assert tok(short) == [] and tok("") == []
    assert tok(" " + "Paris is large. " * 4) == ["Paris", "large"] * 4


def test_options():
    assert make(lowercase=True)("The Cat") == ["cat"]  # "the" is a stop word once lowercased
    assert make(numbers_max=-1)("7 cats") == ["cats"]
    assert make(numbers_max=10)("7 cats 11") == ["7", "cats"]
    assert make(stopwords="none")("the cat") == ["the", "cat"]


def test_spec_key_covers_settings():
    base = TokenizerSpec.default()
    keys = {str(base.key())}
    for change in (
        {"min_chars": 10},
        {"numbers_max": 5},
        {"lowercase": True},
        {"stopwords": "none"},
        {"tokenizer": "nltk"},
    ):
        keys.add(str(TokenizerSpec.default(**change).key()))
    assert len(keys) == 6


@pytest.fixture(scope="module")
def bundled_sample():
    from bows.config import defaults
    from bows.corpus import load_bundled

    text = load_bundled(defaults()["corpus"]["bundled"])["train"].text
    return text.slice(0, 4000).to_pylist() + text.slice(len(text) - 2000, 2000).to_pylist()


def agreement(a: Tokenizer, b: Tokenizer, texts) -> float:
    """Shared kept tokens (multiset intersection per record) over the larger of the two totals."""
    same = total = 0
    for t in texts:
        x, y = Counter(a(t)), Counter(b(t))
        same += sum((x & y).values())
        total += max(sum(x.values()), sum(y.values()))
    return same / total


def test_fast_engine_agrees_with_nltk_components(bundled_sample):
    fast, ref = make("fast", min_chars=50), make("nltk", min_chars=50)
    assert agreement(fast, ref, bundled_sample) >= 0.999


def test_stdlib_word_tokenizer_is_identical(bundled_sample):
    from bows.tokenize import fast_word_tokenizer
    from nltk.tokenize import NLTKWordTokenizer

    a, b = NLTKWordTokenizer(), fast_word_tokenizer()
    extra = ['He said "no," and left.', "can't won't gonna (a) [b] {c} <d> -- ... 'quoted' «x» “y” ‘z’ $3.88 U.S.!?"]
    for text in bundled_sample[:3000] + extra:
        assert a.tokenize(text) == b.tokenize(text)
