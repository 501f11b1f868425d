import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.sae.steps.summary import summarise

run(
    snakemake,
    summarise,
    scores=list(snakemake.input.scores),
    hedging=list(snakemake.input.hedging),
    words=list(snakemake.input.words),
    activations=list(snakemake.input.activations),
    histories=list(snakemake.input.histories),
    models=snakemake.params.models,
    sae=snakemake.params.sae,
    out_scores=snakemake.output.scores,
    out_hedging=snakemake.output.hedging,
    out_words=snakemake.output.words,
    out_json=snakemake.output.json,
    out_claims=snakemake.output.claims,
    out_claims_html=snakemake.output.claims_html,
)
