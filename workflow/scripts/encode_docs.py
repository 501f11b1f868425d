import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.encode import encode_docs
from bows.jobs import run

run(
    snakemake,
    encode_docs,
    corpus=snakemake.input.corpus,
    vocab=snakemake.input.vocab,
    out=snakemake.params.prefix,
    cfg=snakemake.params.vocab,
    threads=snakemake.threads,
)
