"""Rule train_model: train one model of the grid (bows.train.train_model)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.train import train_model

wc = snakemake.wildcards
# params.train holds the keys that change the weights; device, threads and checkpointing come from the config
settings = {k: v for k, v in snakemake.config["train"].items() if k != "grid"} | dict(snakemake.params.train)
windows = snakemake.config["windows"] | dict(snakemake.params.windows)  # params.windows: the keys that retrain
run(
    snakemake,
    train_model,
    docs=snakemake.params.docs,
    train_windows=snakemake.input.train_windows,
    heldout_windows=snakemake.input.heldout_windows,
    model_out=snakemake.output.model,
    run_out=snakemake.output.run,
    ckpt_dir=snakemake.params.ckpt,
    variant=wc.variant,
    latent=int(wc.latent),
    weight_decay=float(wc.wd),
    seed=int(wc.seed),
    train_cfg=settings,
    windows_cfg=windows,
    threads=snakemake.threads,
    config={"train": settings, "windows": snakemake.config["windows"]},
)
