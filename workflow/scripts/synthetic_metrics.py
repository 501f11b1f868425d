import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.synthetic.pipeline import compute_metrics

run(
    snakemake,
    compute_metrics,
    structure=snakemake.wildcards.structure,
    syn=snakemake.params.synthetic,
    data_npz=snakemake.input.npz,
    models_npz=snakemake.input.models,
    out_metrics=snakemake.output.metrics[0],
    out_gram=snakemake.output.gram[0],
)
