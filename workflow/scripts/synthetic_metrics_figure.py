import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.synthetic.drawing import draw_metrics_figure

run(
    snakemake,
    draw_metrics_figure,
    table=snakemake.input.table,
    figures=snakemake.params.figures,
    outputs=[snakemake.output.main, *snakemake.output.other],
)
