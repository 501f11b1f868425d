import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.figures.umap import draw_legend, draw_umap
from bows.jobs import run

outputs = [snakemake.output.main, *snakemake.output.other]
if snakemake.rule == "fig_umap_legend":
    run(snakemake, draw_legend, figures=snakemake.params.figures, outputs=outputs)
else:
    w = snakemake.wildcards
    run(
        snakemake,
        draw_umap,
        tag=f"{w.variant}/L{w.latent}_wd{w.wd}_seed{w.seed}",
        tables=dict(snakemake.input.items()),
        figures=snakemake.params.figures,
        outputs=outputs,
    )
