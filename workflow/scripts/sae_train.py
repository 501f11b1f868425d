import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.sae.steps.train import train_sweep

run(
    snakemake,
    train_sweep,
    architecture=snakemake.wildcards.arch,
    activations=snakemake.input.npz,
    sae=snakemake.params.sae,
    device=snakemake.params.device,
    out_saes=snakemake.output.saes,
    out_history=snakemake.output.history,
)
