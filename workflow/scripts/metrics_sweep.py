import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.stages.sweep import run_sweep

o = snakemake.output
names = ("metrics_all", "sweep", "sweep_summary", "losses", "loss_fit", "clusters", "subspace")
run(
    snakemake,
    run_sweep,
    model_metrics=list(snakemake.input.models),
    data_metrics=snakemake.input.data,
    runs=list(snakemake.input.runs),
    out={
        "all": o.metrics_all,
        "sweep": o.sweep,
        "summary": o.sweep_summary,
        "losses": o.losses,
        "loss_fit": o.loss_fit,
        "clusters": o.clusters,
        "subspace": o.subspace,
    },
    analysis=snakemake.params.analysis,
    tags=list(snakemake.params.tags),
    config={"analysis": snakemake.params.analysis},
)
