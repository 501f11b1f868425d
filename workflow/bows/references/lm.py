"""A causal language model as a reference: its token embedding and its residual stream at every layer.

One code path for every model: ``AutoTokenizer.from_pretrained`` and ``AutoModelForCausalLM.from_pretrained`` on a
hub id or a local folder (with ``gguf_file`` for a GGUF file inside the folder, which ``transformers`` de-quantises to
float32 tensors). The weights are read once per job.

Per analysed word:

- ``embedding``: the row of the input token embedding (tied to the output in SmolLM2) of the word's token when the
  word is written as in running text, ``" " + word``;
- ``layer k`` (k = 0 … number of blocks): hidden state k as ``transformers`` returns it (0 = the embedding output, k
  = after block k; the last one after the model's final norm), at the word's token in a passage of the training
  corpus (:mod:`bows.references.contexts`), averaged over the word's contexts. The model sees the tokenizer's
  beginning-of-sequence token (when it has one), a space, and the passage up to the end of its last analysed word
  (later tokens cannot change a causal model's states at the word).

A word that splits into several tokens is represented by its **last** token (the first position at which the model
has read the whole word), and flagged (``n_tokens`` > 1 in the words table).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import BowsError
from .contexts import Occurrences
from .sources import require_modules, smollm2_file

log = logging.getLogger("bows.references")

__all__ = [
    "ModelSource",
    "model_source",
    "load_language_model",
    "LanguageModel",
    "last_token",
    "word_token_ids",
    "token_embeddings",
    "context_states",
]


class ModelLoadError(BowsError):
    """A language model or its tokenizer cannot be used as a reference."""


@dataclass(frozen=True)
class ModelSource:
    """Where a model is: a hub id or a local folder, and the GGUF file inside the folder (None: a transformers
    checkpoint)."""

    path: str
    gguf_file: str | None = None

    def describe(self) -> str:
        return f"{self.path}/{self.gguf_file}" if self.gguf_file else self.path


def model_source(reference: str, refs: Mapping[str, Any]) -> ModelSource:
    """The model of reference ``smollm2`` (the packaged GGUF file) or ``hf`` (``references.hf``)."""
    if reference == "smollm2":
        path = smollm2_file()
        return ModelSource(str(path.parent), path.name)
    if reference == "hf":
        return ModelSource(str(refs["hf"]["model"]), refs["hf"]["gguf_file"] or None)
    raise ValueError(f"{reference!r} is not a language-model reference")


@dataclass
class LanguageModel:
    tokenizer: Any
    model: Any
    device: str
    source: ModelSource
    load_seconds: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)


def load_language_model(source: ModelSource, device: str = "cpu") -> LanguageModel:
    """Tokenizer and float32 model of ``source``, on ``device``, in eval mode."""
    require_modules(("transformers",) + (("gguf", "accelerate") if source.gguf_file else ()), "a language model")
    import contextlib
    import io

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    kwargs = {"gguf_file": source.gguf_file} if source.gguf_file else {}
    t0 = time.perf_counter()
    try:  # the GGUF reader draws a progress bar on stderr: kept out of the job's output
        with contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(source.path, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(source.path, dtype=torch.float32, **kwargs)
    except (OSError, ValueError) as err:
        raise ModelLoadError(
            f"cannot load the language model {source.describe()}: {str(err).splitlines()[0]}",
            "give a local folder saved with save_pretrained (or a GGUF file in it), or a hub id this machine can "
            "reach (references.hf.model)",
        ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise ModelLoadError(
            f"the tokenizer of {source.describe()} is not a fast tokenizer: it gives no character offsets",
            "use a model whose tokenizer has a tokenizer.json (transformers' fast tokenizers)",
        )
    model.eval()
    model.to(device)
    lm = LanguageModel(tokenizer, model, device, source, time.perf_counter() - t0)
    lm.facts = {
        "model": source.describe(),
        "class": type(model).__name__,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "hidden_size": int(model.config.hidden_size),
        "blocks": int(model.config.num_hidden_layers),
        "tied_embeddings": bool(getattr(model.config, "tie_word_embeddings", False)),
        "bos_token": tokenizer.bos_token,
        "device": device,
        "dtype": "float32",
        "load_seconds": round(lm.load_seconds, 2),
    }
    log.info(
        "loaded %s (%s, %d parameters) in %.1f s",
        source.describe(),
        lm.facts["class"],
        lm.facts["parameters"],
        lm.load_seconds,
    )
    return lm


def last_token(offsets: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """(position of the last token overlapping characters [start, end), number of such tokens); (−1, 0) if none.

    Tokens with an empty span (special tokens) never overlap.
    """
    pos, n = -1, 0
    for t, (s, e) in enumerate(offsets):
        if e > s and e > start and s < end:
            pos, n = t, n + 1
    return pos, n


def word_token_ids(tokenizer: Any, word: str) -> list[int]:
    """Token ids of ``word`` as written in running text (after a space), without special tokens."""
    return list(tokenizer(" " + word, add_special_tokens=False)["input_ids"])


def token_embeddings(lm: LanguageModel, words: Sequence[str]) -> tuple[np.ndarray, list[list[int]]]:
    """([n, d] input-embedding rows of each word's last token, each word's token ids)."""
    import torch

    weight = lm.model.get_input_embeddings().weight
    ids = [word_token_ids(lm.tokenizer, w) for w in words]
    last = torch.tensor([t[-1] for t in ids], dtype=torch.long, device=weight.device)
    with torch.inference_mode():
        rows = weight[last].detach().to("cpu", torch.float64).numpy()
    return rows, ids


def _encode_passages(lm: LanguageModel, occ: Occurrences) -> tuple[list[list[int]], list[list[tuple[int, int, int]]]]:
    """Token ids per passage (BOS, space, passage up to its last occurrence) and per passage its occurrences as
    (position of the word's last token, analysed word, number of tokens of the word)."""
    tok = lm.tokenizer
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
    table = occ.table
    records = table["record"].to_numpy()
    starts = np.flatnonzero(np.r_[True, records[1:] != records[:-1]]) if len(records) else np.zeros(0, int)
    bounds = np.r_[starts, len(records)]
    ids_out, occ_out = [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        rows = table.iloc[a:b]
        text = " " + occ.passages[int(rows["record"].iloc[0])][: int(rows["end"].max())]
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = [tuple(o) for o in enc["offset_mapping"]]
        found = []
        for w, s, e in zip(rows["word"], rows["start"], rows["end"]):
            pos, n = last_token(offsets, int(s) + 1, int(e) + 1)
            if pos >= 0:
                found.append((pos + len(bos), int(w), n))
        ids_out.append(bos + list(enc["input_ids"]))
        occ_out.append(found)
    return ids_out, occ_out


def context_states(
    lm: LanguageModel, occ: Occurrences, n_words: int, batch_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Mean hidden state of every layer at each word's token over its contexts.

    Returns (means [layers, n_words, d] float64, NaN for a word without context; contexts used per word; the largest
    token count of the word in any of its contexts; statistics: passages, tokens, batches, seconds).
    """
    import torch

    ids, occs = _encode_passages(lm, occ)
    n_layers = int(lm.model.config.num_hidden_layers) + 1  # what transformers returns: embeddings + every block
    d = int(lm.model.config.hidden_size)
    sums = torch.zeros((n_layers, n_words, d), dtype=torch.float64)
    counts = np.zeros(n_words, dtype=np.int64)
    pieces = np.zeros(n_words, dtype=np.int64)
    pad = lm.tokenizer.pad_token_id
    pad = pad if pad is not None else (lm.tokenizer.eos_token_id or 0)
    order = np.argsort([-len(x) for x in ids], kind="stable")  # similar lengths share a batch: little padding
    base = lm.model.base_model
    t0 = time.perf_counter()
    tokens = 0
    n_batches = 0
    with torch.inference_mode():
        for b0 in range(0, len(order), batch_size):
            batch = order[b0 : b0 + batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = torch.full((len(batch), width), int(pad), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            rows, cols, word_idx = [], [], []
            for r, i in enumerate(batch):
                input_ids[r, : len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
                mask[r, : len(ids[i])] = 1
                tokens += len(ids[i])
                for pos, w, n in occs[i]:
                    rows.append(r)
                    cols.append(pos)
                    word_idx.append(w)
                    counts[w] += 1
                    pieces[w] = max(pieces[w], n)
            if not rows:
                continue
            out = base(input_ids=input_ids.to(lm.device), attention_mask=mask.to(lm.device), output_hidden_states=True)
            if len(out.hidden_states) != n_layers:
                raise ModelLoadError(
                    f"{lm.source.describe()} returned {len(out.hidden_states)} hidden states for {n_layers - 1} blocks",
                    "use a causal LM whose output_hidden_states gives the embeddings and one state per block",
                )
            hs = torch.stack(out.hidden_states)  # [layers, batch, width, d]
            picked = hs[:, torch.tensor(rows), torch.tensor(cols), :].to("cpu", torch.float64)
            sums.index_add_(1, torch.tensor(word_idx, dtype=torch.long), picked)
            n_batches += 1
    seconds = time.perf_counter() - t0
    means = sums.numpy() / np.where(counts > 0, counts, 1)[None, :, None]
    means[:, counts == 0, :] = np.nan
    stats = {
        "passages": len(ids),
        "tokens": int(tokens),
        "batches": n_batches,
        "forward_seconds": round(seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1) if seconds > 0 else None,
    }
    log.info("%d passages, %d tokens in %d batches: %.1f s", len(ids), tokens, n_batches, seconds)
    return means, counts, pieces, stats
