import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.value_coding import run_modular

run(
    snakemake,
    run_modular,
    cfg=snakemake.params.cfg,
    out_json=snakemake.output.json,
    out_power=snakemake.output.power[0],
    threads=snakemake.threads,
)
