import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))
from bows.jobs import run
from bows.sae.steps.activations import make_activations

run(
    snakemake,
    make_activations,
    model=snakemake.input.model,
    vocab=snakemake.input.vocab,
    docs=snakemake.params.docs,
    train_windows=snakemake.input.train_windows,
    sae=snakemake.params.sae,
    stride=snakemake.params.stride,
    word_groups=snakemake.params.word_groups,
    out_npz=snakemake.output.npz,
    out_json=snakemake.output.json,
)
