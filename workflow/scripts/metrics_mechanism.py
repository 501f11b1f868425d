import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.stages.mechanism import run_mechanism

o = snakemake.output
names = ("r2", "r2_gap", "preact", "density", "towers", "months_r2", "strata", "metrics")
run(
    snakemake,
    run_mechanism,
    model=snakemake.input.model,
    vocab=snakemake.input.vocab,
    heldout_docs=snakemake.params.heldout,
    train_docs=snakemake.params.train,
    train_windows=snakemake.input.train_windows,
    out={n: o[n] for n in names},
    analysis=snakemake.params.analysis,
    windows=snakemake.params.windows,
    tag=snakemake.params.tag,
    config={"analysis": snakemake.params.analysis, "windows": snakemake.params.windows},
)
