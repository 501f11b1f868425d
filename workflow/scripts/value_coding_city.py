import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.value_coding import run_city

run(
    snakemake,
    run_city,
    cfg=snakemake.params.cfg,
    out_json=snakemake.output.json,
    out_cities=snakemake.output.cities[0],
    threads=snakemake.threads,
)
