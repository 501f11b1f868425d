import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.figures.sweeps import SWEEP_FIGURES, render_sweeps
from bows.jobs import run

out = snakemake.output
outputs = {
    name: [getattr(out, name), *[p for p in out.other if Path(p).name.startswith(f"sweeps_{name}.")]]
    for name in SWEEP_FIGURES
}
run(
    snakemake,
    render_sweeps,
    losses=snakemake.input.losses,
    loss_fit=snakemake.input.loss_fit,
    metrics_all=snakemake.input.metrics_all,
    clusters=snakemake.input.clusters,
    words=list(snakemake.input.words),
    outputs=outputs,
    figures=snakemake.params.figures,
    subspace=snakemake.input.subspace,
)
