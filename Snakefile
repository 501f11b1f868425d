# bows: Bag-of-Words Superposition, from raw text to the paper's figures.
#   snakemake --cores all                                   the default experiment (config.yaml, offline, CPU)
#   snakemake --cores all --configfile presets/paper.yaml   the paper's full grid (GPU advised)
#   snakemake --profile profiles/slurm --workflow-profile none --configfile presets/paper.yaml   on SLURM
# Named targets: corpus, vocab, windows, train, metrics, figures, synthetic, value_coding, sae, dynamics, explorer,
# references, export.

import os

from snakemake.utils import min_version

min_version("9.0")


# Always the repository's config.yaml (also with --directory); --configfile files are merged over it.
configfile: os.path.join(workflow.basedir, "config.yaml")


include: "workflow/rules/common.smk"


# the split and variant names of the library (bows.corpus.SPLITS, bows.grid.VARIANTS)
wildcard_constraints:
    split="|".join(SPLITS),
    variant="|".join(VARIANTS),
    latent=r"\d+",
    wd=r"[0-9][0-9.e+-]*",
    seed=r"\d+",


include: "workflow/rules/corpus.smk"
include: "workflow/rules/vocab.smk"
include: "workflow/rules/bows.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/ablation.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/value_coding.smk"
include: "workflow/rules/sae.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/dynamics.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/references.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        all_targets(),


rule corpus:
    input:
        TARGETS["corpus"],


rule vocab:
    input:
        TARGETS["vocab"],


rule windows:
    input:
        TARGETS["windows"],


rule train:
    input:
        TARGETS["train"],


rule metrics:
    input:
        TARGETS["metrics"],


rule figures:
    input:
        TARGETS["figures"],


rule synthetic:
    input:
        TARGETS["synthetic"],


rule value_coding:
    input:
        TARGETS["value_coding"],


rule sae:
    input:
        TARGETS["sae"],


rule dynamics:
    input:
        TARGETS["dynamics"],


rule explorer:
    input:
        TARGETS["explorer"],


rule export:
    input:
        TARGETS["export"],
