import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.stages.model import run_model

o = snakemake.output
run(snakemake, run_model, model=snakemake.input.model, vocab=snakemake.input.vocab, cooc=snakemake.input.cooc,
    out={n: o[n] for n in ("metrics", "words", "groups", "gram")}, analysis=snakemake.params.analysis,
    tag=snakemake.params.tag, subspace=snakemake.input.subspace, config={"analysis": snakemake.params.analysis})
