import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.stages.data import run_data

o = snakemake.output
run(
    snakemake,
    run_data,
    vocab=snakemake.input.vocab,
    train_docs=snakemake.params.prefix,
    train_windows=snakemake.input.windows,
    out={"cooc": o.cooc, "ring": o.ring, "metrics": o.metrics},
    analysis=snakemake.params.analysis,
    windows=snakemake.params.windows,
    config={"analysis": snakemake.params.analysis, "windows": snakemake.params.windows},
)
