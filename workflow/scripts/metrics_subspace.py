"""Rule metrics_subspace: the windows' top principal subspaces (bows.stages.subspace.run_subspace)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.stages.subspace import run_subspace

run(
    snakemake,
    run_subspace,
    train_docs=snakemake.params.prefix,
    train_windows=snakemake.input.windows,
    out=snakemake.output.subspace,
    analysis=snakemake.params.analysis,
    windows=snakemake.params.windows,
    k=snakemake.params.k,
)
