import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.figures.mechanism import draw_christmas, draw_mechanism
from bows.jobs import run

outputs = [snakemake.output.main, *snakemake.output.other]
tables = dict(snakemake.input.items())
if snakemake.rule == "fig_mechanism_christmas":
    run(snakemake, draw_christmas, tables=tables, figures=snakemake.params.figures, outputs=outputs)
else:
    run(
        snakemake,
        draw_mechanism,
        target=snakemake.wildcards.target,
        tables=tables,
        figures=snakemake.params.figures,
        outputs=outputs,
    )
