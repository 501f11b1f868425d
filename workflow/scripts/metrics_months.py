import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.stages.months import run_months

o = snakemake.output
run(
    snakemake,
    run_months,
    model=snakemake.input.model,
    vocab=snakemake.input.vocab,
    data_ring=snakemake.input.ring,
    out={n: o[n] for n in ("ring", "seasonal", "metrics")},
    analysis=snakemake.params.analysis,
    tag=snakemake.params.tag,
    config={"analysis": snakemake.params.analysis},
)
