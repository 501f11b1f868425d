import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.stages.umap import run_umap

run(
    snakemake,
    run_umap,
    model=snakemake.input.model,
    vocab=snakemake.input.vocab,
    out=snakemake.output.table,
    analysis=snakemake.params.analysis,
    tag=snakemake.params.tag,
    config={"analysis": snakemake.params.analysis},
)
