import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.sae.steps.scores import score_model

run(
    snakemake,
    score_model,
    model=snakemake.params.tag,
    activations=snakemake.input.npz,
    activations_json=snakemake.input.json,
    saes=list(snakemake.input.saes),
    sae=snakemake.params.sae,
    out_scores=snakemake.output.scores,
    out_words=snakemake.output.words,
    out_hedging=snakemake.output.hedging,
)
