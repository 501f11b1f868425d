import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.windows import index_windows
from bows.jobs import run

run(snakemake, index_windows, docs=dict(snakemake.params.prefixes), out_dir=Path(snakemake.output.stats).parent,
    cfg=snakemake.params.windows)
