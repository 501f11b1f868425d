"""The one adapter of every stage rule: the Snakemake object becomes a bows.stage.Job for the stage's run()."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run_stage

run_stage(snakemake)
