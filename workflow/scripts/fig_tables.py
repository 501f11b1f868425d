import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.figures.sweeps import write_report_tables
from bows.jobs import run

names = sorted({key.rsplit("_", 1)[0] for key in snakemake.output.keys()})
run(
    snakemake,
    write_report_tables,
    tables=dict(snakemake.input.items()),
    outputs={n: [getattr(snakemake.output, f"{n}_csv"), getattr(snakemake.output, f"{n}_html")] for n in names},
)
