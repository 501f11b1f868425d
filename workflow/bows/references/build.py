"""A reference's representation of the analysed words, with the words table that says how each row was made."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .contexts import records_containing, select_occurrences
from .lm import LanguageModel, context_states, token_embeddings
from .store import Representation
from .vectors import WordVectors, look_up
from .words import AnalysedWords

__all__ = ["lm_representation", "vector_representation", "WORD_COLUMNS"]

WORD_COLUMNS = [
    "word",
    "vocab_id",
    "origin",
    "lookup",
    "tokens",
    "n_tokens",
    "n_tokens_in_context",
    "multi_token",
    "records_with_word",
    "n_contexts",
    "status",
]


def lm_representation(
    name: str,
    lm: LanguageModel,
    analysed: AnalysedWords,
    texts: Sequence[str],
    indptr: np.ndarray,
    indices: np.ndarray,
    n_contexts: int,
    min_contexts: int,
    passage_chars: int,
    batch_size: int,
    seed: int,
    case_insensitive: bool = False,
) -> tuple[Representation, pd.DataFrame, dict[str, Any]]:
    """Token embedding + every layer's mean state over up to ``n_contexts`` contexts per word; a word with fewer
    than ``min_contexts`` contexts has NaN layer rows and says so."""
    words = analysed.words
    records = records_containing(indptr, indices, analysed.vocab_ids)
    occ = select_occurrences(texts, words, records, n_contexts, passage_chars, seed, case_insensitive)
    emb, ids = token_embeddings(lm, words)
    means, counts, pieces, stats = context_states(lm, occ, len(words), batch_size)
    enough = counts >= min_contexts
    means[:, ~enough, :] = np.nan
    X = np.concatenate([emb[None], means], axis=0)
    layers = ["embedding"] + [f"layer {k}" for k in range(means.shape[0])]
    layer_index = np.r_[-1, np.arange(means.shape[0])]
    status = []
    for k in range(len(words)):
        if analysed.vocab_ids[k] < 0:
            status.append("embedding only: not in the BOWS vocabulary, so no contexts are drawn")
        elif counts[k] == 0 and occ.records_with_word[k] == 0:
            status.append("embedding only: no training record contains it")
        elif counts[k] == 0:
            status.append(
                f"embedding only: {occ.records_with_word[k]} training records contain it, none in its first "
                f"{passage_chars} characters (references.passage_chars)"
            )
        elif not enough[k]:
            n = int(counts[k])
            status.append(
                f"embedding only: {n} context{'s' if n != 1 else ''} (minimum {min_contexts}, references.min_contexts)"
            )
        else:
            status.append("ok")
    tokens = [lm.tokenizer.convert_ids_to_tokens(t) for t in ids]
    table = pd.DataFrame(
        {
            "word": words,
            "vocab_id": analysed.vocab_ids,
            "origin": analysed.origin,
            "lookup": [" " + w for w in words],
            "tokens": ["|".join(t) for t in tokens],
            "n_tokens": [len(t) for t in ids],
            "n_tokens_in_context": pieces,
            "multi_token": [len(t) > 1 or p > 1 for t, p in zip(ids, pieces)],
            "records_with_word": occ.records_with_word,
            "n_contexts": counts,
            "status": status,
        },
        columns=WORD_COLUMNS,
    )
    stats = {**stats, **lm.facts, "words": len(words), "words_with_contexts": int(enough.sum())}
    return Representation(name, list(words), layers, layer_index, X.astype(np.float32)), table, stats


def vector_representation(
    name: str, vectors: WordVectors, analysed: AnalysedWords, lowercase: bool
) -> tuple[Representation, pd.DataFrame]:
    """One layer: each word's vector (NaN when absent, with the forms tried in its status)."""
    X, forms, status = look_up(vectors, analysed.words, lowercase)
    n = len(analysed.words)
    table = pd.DataFrame(
        {
            "word": analysed.words,
            "vocab_id": analysed.vocab_ids,
            "origin": analysed.origin,
            "lookup": forms,
            "tokens": forms,
            "n_tokens": np.where([bool(f) for f in forms], 1, 0),
            "n_tokens_in_context": np.zeros(n, dtype=np.int64),
            "multi_token": np.zeros(n, dtype=bool),
            "records_with_word": np.zeros(n, dtype=np.int64),
            "n_contexts": np.zeros(n, dtype=np.int64),
            "status": status,
        },
        columns=WORD_COLUMNS,
    )
    return Representation(
        name, list(analysed.words), ["vectors"], np.zeros(1, np.int64), X[None].astype(np.float32)
    ), table
