import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.figures.structure import draw_snapshot, draw_sweep
from bows.jobs import run

outputs = [snakemake.output.main, *snakemake.output.other]
if snakemake.rule == "fig_structure_sweep":
    metric = {"raw": "offdiag_raw", "cos": "offdiag_cos"}[snakemake.wildcards.gram]
    run(
        snakemake,
        draw_sweep,
        metric=metric,
        tables=dict(snakemake.input.items()),
        figures=snakemake.params.figures,
        outputs=outputs,
    )
else:
    run(
        snakemake,
        draw_snapshot,
        latent=int(snakemake.wildcards.latent),
        tables=dict(snakemake.input.items()),
        figures=snakemake.params.figures,
        outputs=outputs,
        model=snakemake.params.model,
    )
