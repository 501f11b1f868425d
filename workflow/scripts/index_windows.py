import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.windows import index_windows

run(
    snakemake,
    index_windows,
    docs=dict(snakemake.params.prefixes),
    out_dir=Path(snakemake.output.stats).parent,
    cfg=snakemake.params.windows,
)
