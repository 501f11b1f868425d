import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.synthetic.drawing import draw_gram_grid

run(
    snakemake,
    draw_gram_grid,
    gram_table=snakemake.input.gram,
    structure=snakemake.wildcards.structure,
    syn=snakemake.params.synthetic,
    figures=snakemake.params.figures,
    outputs=[snakemake.output.main, *snakemake.output.other],
)
