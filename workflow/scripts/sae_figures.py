import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.sae.steps.figures import draw_figures

out = snakemake.output
run(
    snakemake,
    draw_figures,
    scores=snakemake.input.scores,
    hedging=snakemake.input.hedging,
    words=snakemake.input.words,
    summary=snakemake.input.summary,
    figures=snakemake.params.figures,
    benchmark_out=[out.benchmark, *[p for p in out.other if "sae_benchmark." in p]],
    recovery_out=[out.recovery, *[p for p in out.other if "sae_recovery." in p]],
)
