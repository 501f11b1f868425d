import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.synthetic.runs import make_data

run(
    snakemake,
    make_data,
    structure=snakemake.wildcards.structure,
    syn=snakemake.params.synthetic,
    out_npz=snakemake.output.npz,
    out_json=snakemake.output.json,
)
