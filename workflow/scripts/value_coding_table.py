import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.value_coding import table1

run(
    snakemake,
    table1,
    city_json=snakemake.input.city,
    modular_json=snakemake.input.modular,
    out_table=snakemake.output.table[0],
    out_html=snakemake.output.html,
)
