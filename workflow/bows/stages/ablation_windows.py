"""Rule ablate_windows: the co-occurrence ablation's ablated and control window sets (:mod:`bows.ablation`)."""

from __future__ import annotations

from pathlib import Path

from ..ablation import ablate_windows
from ..stage import Job, Section, Stage

SETS = ("ablated", "control")
FILES = ("train", "heldout", "stats")  # train_windows.npy, heldout_windows.npy, windows.json of each set

STAGE = Stage(
    __name__,
    files=tuple(f"{kind}_{name}" for kind in SETS for name in FILES),
    sections=(Section("windows", only=("exclude_cooccurrence", "group_size", "stride", "seed")),),
)
# The rule passes the ablated groups' entries of analysis.word_groups as params["word_groups"] (only those: editing
# another group reruns nothing here).


def run(job: Job) -> None:
    """Filter the full set's training windows of the job's inputs into the two sets of its outputs."""
    ablate_windows(
        train_docs=str(job.input.docs).removesuffix(".json"),
        vocab=job.input.vocab,
        train_windows=job.input.train_windows,
        heldout_windows=job.input.heldout_windows,
        out_dirs={kind: Path(job.output[f"{kind}_stats"]).parent for kind in SETS},
        windows=job.config["windows"],
        word_groups=job.params["word_groups"],
    )
