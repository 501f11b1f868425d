import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.synthetic.pipeline import summarise

run(
    snakemake,
    summarise,
    metric_tables=list(snakemake.input.metrics),
    data_jsons=list(snakemake.input.data),
    train_jsons=list(snakemake.input.train),
    syn=snakemake.params.synthetic,
    out_table=snakemake.output.table[0],
    out_json=snakemake.output.json,
    out_claims=snakemake.output.claims[0],
    out_claims_html=snakemake.output.claims_html,
)
