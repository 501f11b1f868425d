"""Rule pca_model: the optimal linear autoencoder as a model file (bows.baselines.write_pca_model)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.baselines import write_pca_model
from bows.jobs import run

wc = snakemake.wildcards
run(
    snakemake,
    write_pca_model,
    subspace=snakemake.input.subspace,
    model_out=snakemake.output.model,
    run_out=snakemake.output.run,
    latent=int(wc.latent),
    weight_decay=float(wc.wd),
    seed=int(wc.seed),
)
