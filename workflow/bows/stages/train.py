"""Rule train_model: train one model of the grid (bows.train.train_model).

What reruns the job is what changes the weights: the ``train`` keys of :data:`bows.train_settings.RESULT_KEYS` (as
:func:`bows.train_settings.result_params` picks them: ``max_steps`` only when set) and the windows' group size,
stride and encoding, plus the code the job runs and its input files. Where and how the job runs
(:data:`bows.train_settings.RUN_KEYS`: device, checkpoint cadence, GPU sharing, ...) and its threads are read as
settings, never a rerun trigger. The training code is imported inside :func:`run`, so that the workflow's parse
(which reads :data:`STAGE` and :func:`memory_estimate_mb`) does not load torch.
"""

from __future__ import annotations

import math

from ..codehash import stage_hash
from ..stage import Job, Section, Stage
from ..train_settings import OMIT_WHEN_NULL, RESULT_KEYS, RUN_KEYS

#: the windows keys a trained model depends on
WINDOW_KEYS = ("group_size", "stride", "encoding")

STAGE = Stage(
    __name__,
    files=("model", "run"),
    sections=(Section("train", only=RESULT_KEYS, omit_null=OMIT_WHEN_NULL), Section("windows", only=WINDOW_KEYS)),
    settings=(Section("train", only=RUN_KEYS),),
)


def memory_estimate_mb(latent: int, vocab_size: int, batch_size: int) -> int:
    """Peak memory of one job in MB: 28·L·V bytes (E, its gradient, two AdamW moments, and on resume the loaded
    copies of E and the moments), 16·B·V bytes of batch activations, and 600 MB for Python, torch and the data."""
    return int(math.ceil((28 * latent * vocab_size + 16 * batch_size * vocab_size) / 1e6)) + 600


def run(job: Job) -> None:
    """Train the grid model that the job's wildcards name on the pipeline's windows."""
    from ..batches import load_train_data
    from ..train import train_model
    from ..train_settings import TrainSettings

    windows = job.config["windows"]
    data = load_train_data(job.params["docs"], job.input.train_windows, job.input.heldout_windows, windows)
    settings = TrainSettings.from_config({**job.config["train"], **job.settings["train"]}, threads=job.threads)
    out = {"model": job.output.model, "run": job.output.run}
    train_model(data, job.model, settings, out, job.params["ckpt"], config=job.config, code=stage_hash(__name__))
