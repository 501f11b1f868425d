import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.corpus import SPLITS, prepare_corpus
from bows.jobs import run

run(
    snakemake,
    prepare_corpus,
    cfg=snakemake.params.corpus,
    out=dict(zip(SPLITS, snakemake.output.splits)),
    summary=snakemake.output.summary,
    group_size=snakemake.params.group_size,
)
