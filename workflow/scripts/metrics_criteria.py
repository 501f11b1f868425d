import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.stages.criteria import run_criteria

i = snakemake.input
run(
    snakemake,
    run_criteria,
    out=snakemake.output.json,
    config=snakemake.params.config,
    vocab=i.vocab,
    windows_json=i.windows,
    data_metrics=i.data,
    metrics_all=i.metrics_all,
    months_metrics=i.months,
    mechanism=i.mechanism,
    r2_gap=i.r2_gap,
    sweep_summary=i.sweep,
    clusters=i.clusters,
    subspace=i.subspace,
)
