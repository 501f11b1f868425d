"""Rule ``sae_activations``: the ground-truth activations of one BOWS model (see :mod:`bows.sae.activations`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ... import io
from ...stage import Job, Section, Stage
from ...wordlists import resolve_group_words
from ..files import provenance_params

__all__ = ["STAGE", "ACTIVATION_KEYS", "run", "make_activations"]

#: the keys of the ``sae`` section that change the activations (widths and sparsities retrain, but do not resample)
ACTIVATION_KEYS = ("group_size", "words", "groups", "train_samples", "heldout_samples", "seed")

STAGE = Stage(
    __name__,
    files=("npz", "json"),
    sections=(Section("sae", only=ACTIVATION_KEYS), Section("windows", only=("stride",))),
)


def run(job: Job) -> None:
    """Rule ``sae_activations``: the activations of the model the job's wildcards name. ``params.word_groups``:
    the groups of ``analysis.word_groups`` that ``sae.groups`` names; ``params.docs``: the documents' path prefix."""
    make_activations(
        model=job.input.model,
        vocab=job.input.vocab,
        docs=job.params["docs"],
        train_windows=job.input.train_windows,
        sae=job.config["sae"],
        stride=int(job.config["windows"]["stride"]),
        word_groups=job.params["word_groups"],
        out_npz=job.output.npz,
        out_json=job.output.json,
    )


def _group_ids(vocab: pd.DataFrame, sae: Mapping[str, Any], word_groups: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Vocabulary ids of the words of every ``sae.groups`` group (words absent from the vocabulary are skipped)."""
    index = dict(zip(vocab["word"], vocab["index"]))
    out = {}
    for name in sae["groups"]:
        words = resolve_group_words(name, word_groups[name]["words"])
        out[name] = np.array([index[w] for w in words if w in index], dtype=np.int64)
    return out


def make_activations(
    model: str,
    vocab: str,
    docs: str,
    train_windows: str,
    sae: Mapping[str, Any],
    stride: int,
    word_groups: Mapping[str, Any],
    out_npz: str,
    out_json: str,
) -> dict[str, Any]:
    """Rule ``sae_activations``: the ground-truth activations of one BOWS model (see :mod:`bows.sae.activations`).
    ``train_windows`` is the window index ``train_windows.npy``; ``heldout_windows.npy`` lies beside it."""
    # imported here: sae.smk imports this module for its STAGE when the workflow is parsed (no torch, no numba then)
    from ...model_files import load_weights
    from ...vocab import read_vocab
    from ...windows import load_window_split
    from ..activations import build

    W, _ = load_weights(model)
    table = read_vocab(vocab)
    groups = _group_ids(table, sae, word_groups)
    tr, ho = load_window_split(Path(train_windows).parent)
    forced = np.concatenate(list(groups.values())) if groups else np.zeros(0, np.int64)
    act = build(W, docs, tr, ho, sae, stride, forced)
    with io.atomic_path(out_npz) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            words=act["words"],
            frequency=act["frequency"],
            h_train=act["h_train"],
            h_heldout=act["h_heldout"],
            truth=W[:, act["words"]].T.astype(np.float32),
        )
    words = table.set_index("index").loc[act["words"], "word"].tolist()
    record = {
        "latent": int(W.shape[0]),
        "vocab_size": int(W.shape[1]),
        "n_words": len(act["words"]),
        "group_size": int(sae["group_size"]),
        "true_l0_train": act["true_l0_train"],
        "true_l0_heldout": act["true_l0_heldout"],
        "samples": act["samples"],
        "words": words,
        "groups": {k: [table["word"].iloc[int(i)] for i in v] for k, v in groups.items()},
        "provenance": io.provenance(provenance_params(sae), {"model": model, "docs": docs + ".json"}),
    }
    io.write_json(out_json, record)
    io.write_sidecar(out_npz, provenance_params(sae), inputs={"model": model})
    return record
