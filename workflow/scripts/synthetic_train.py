import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.synthetic.runs import train_structure

run(
    snakemake,
    train_structure,
    structure=snakemake.wildcards.structure,
    syn=snakemake.params.synthetic,
    data_npz=snakemake.input.npz,
    out_npz=snakemake.output.models,
    out_json=snakemake.output.json,
    threads=snakemake.threads,
)
