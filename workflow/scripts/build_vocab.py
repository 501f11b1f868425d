import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.vocab import build_vocab

run(
    snakemake,
    build_vocab,
    train=snakemake.input.train,
    out=snakemake.output.tsv,
    cfg=snakemake.params.vocab,
    threads=snakemake.threads,
)
