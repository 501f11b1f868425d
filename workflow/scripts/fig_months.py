import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.figures.months import draw
from bows.jobs import run

run(
    snakemake,
    draw,
    kind=snakemake.wildcards.kind,
    tables=dict(snakemake.input.items()),
    figures=snakemake.params.figures,
    outputs=[snakemake.output.main, *snakemake.output.other],
)
