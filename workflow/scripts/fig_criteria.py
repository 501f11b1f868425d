import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.figures.criteria import render_criteria
from bows.jobs import run

run(
    snakemake,
    render_criteria,
    criteria_json=snakemake.input.criteria,
    outputs=[snakemake.output.main, *snakemake.output.other],
    csv=snakemake.output.csv,
    html=snakemake.output.html,
    figures=snakemake.params.figures,
)
