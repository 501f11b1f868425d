# Synthetic BOWS (paper §7): planted correlation structures → many small tied autoencoders → Gram grids.
# One data/train/metrics/figure job per (data variant, structure): every model of a structure trains in one batched
# job. Then a summary over all of them. Everything lands under results/synthetic/{synvar}/{structure}/.
# Stages: workflow/bows/synthetic/stages (data, training, metrics), workflow/bows/figures/stages (figures).

import bows.figures.stages.synthetic_gram_grid as bsyn_gram_grid
import bows.figures.stages.synthetic_metrics as bsyn_metrics_figure
import bows.synthetic.stages.data as bsyn_data
import bows.synthetic.stages.metrics as bsyn_metrics
import bows.synthetic.stages.train as bsyn_train
from bows.synthetic.variants import variants as _syn_variants

SYN_CFG = config["synthetic"]
try:
    SYN_VARIANTS = _syn_variants(SYN_CFG)  # name → the synthetic section with that variant's data keys
except BowsError as err:
    raise WorkflowError(f"bows: {err}") from None
SYN_RUNS = [(v, s) for v, cfg in SYN_VARIANTS.items() for s in cfg["structures"]]
SYN_LOGS = f"{SYN}/logs"
SYN_BENCH = f"{SYN}/benchmarks"  # benchmark: files (wall time, peak memory), beside the logs
SYN_W = "{synvar,[a-z][a-z0-9_]*}/{structure,[a-z0-9]+}"  # variant/structure in output paths
SYN_FIG = "{synvar,[a-z][a-z0-9_]*}_{structure,[a-z0-9]+}_"  # the prefix of a structure's figures


def variant_section(stage):
    """The param that replaces a synthetic stage's synthetic section: the section resolved for the job's data variant
    (the keys the stage declares of it), so that a change of one variant reruns that variant's jobs only."""
    (section,) = [s for s in stage.section_specs if s.name == "synthetic"]
    return lambda wc: section.take({"synthetic": SYN_VARIANTS[wc.synvar]})


rule synthetic_data:
    output:
        **bsyn_data.STAGE.file_outputs(npz=f"{SYN}/{SYN_W}/data.npz", json=f"{SYN}/{{synvar}}/{{structure}}/data.json"),
    log:
        f"{SYN_LOGS}/synthetic_data_{{synvar}}_{{structure}}.log",
    benchmark:
        f"{SYN_BENCH}/synthetic_data_{{synvar}}_{{structure}}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bsyn_data.STAGE, synthetic=variant_section(bsyn_data.STAGE)),
    script:
        STAGE_SCRIPT


rule synthetic_train:
    input:
        npz=f"{SYN}/{{synvar}}/{{structure}}/data.npz",
    output:
        **bsyn_train.STAGE.file_outputs(
            models=f"{SYN}/{SYN_W}/models.npz", json=f"{SYN}/{{synvar}}/{{structure}}/train.json"
        ),
    log:
        f"{SYN_LOGS}/synthetic_train_{{synvar}}_{{structure}}.log",
    benchmark:
        f"{SYN_BENCH}/synthetic_train_{{synvar}}_{{structure}}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bsyn_train.STAGE, synthetic=variant_section(bsyn_train.STAGE)),
    script:
        STAGE_SCRIPT


rule synthetic_metrics:
    input:
        npz=f"{SYN}/{{synvar}}/{{structure}}/data.npz",
        models=f"{SYN}/{{synvar}}/{{structure}}/models.npz",
    output:
        **bsyn_metrics.STAGE.table_outputs(f"{SYN}/{SYN_W}"),
    log:
        f"{SYN_LOGS}/synthetic_metrics_{{synvar}}_{{structure}}.log",
    benchmark:
        f"{SYN_BENCH}/synthetic_metrics_{{synvar}}_{{structure}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bsyn_metrics.STAGE, synthetic=variant_section(bsyn_metrics.STAGE)),
    script:
        STAGE_SCRIPT


rule synthetic_gram_grid:
    input:
        gram=f"{SYN}/{{synvar}}/{{structure}}/gram.parquet",
    output:
        **stage_figures(
            bsyn_gram_grid.STAGE,
            f"{SYN}/figures",
            prefix=SYN_FIG,
            reports={
                "gram_grid": dict(
                    caption="../report/synthetic_gram_grid.rst",
                    category="Synthetic",
                    subcategory="Gram grids",
                    labels={"variant": "{synvar}", "structure": "{structure}", "figure": "Gram grid"},
                )
            },
        ),
    log:
        f"{SYN_LOGS}/synthetic_gram_grid_{{synvar}}_{{structure}}.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bsyn_gram_grid.STAGE, synthetic=variant_section(bsyn_gram_grid.STAGE)),
    script:
        STAGE_SCRIPT


import bows.synthetic.summary as bsyn_summary


rule synthetic_summary:
    input:
        metrics=[f"{SYN}/{v}/{s}/metrics.parquet" for v, s in SYN_RUNS],
        data=[f"{SYN}/{v}/{s}/data.json" for v, s in SYN_RUNS],
        train=[f"{SYN}/{v}/{s}/train.json" for v, s in SYN_RUNS],
    output:
        **bsyn_summary.STAGE.table_outputs(SYN),
        summary=f"{SYN}/summary.json",
        claims_json=f"{SYN}/claims.json",
        claims_html=report(
            f"{SYN}/claims.html",
            caption="../report/claims.rst",
            category="Synthetic",
            subcategory="Claims",
            labels={"table": "the paper's synthetic claims"},
        ),
    log:
        f"{SYN_LOGS}/synthetic_summary.log",
    benchmark:
        f"{SYN_BENCH}/synthetic_summary.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bsyn_summary.STAGE),
    script:
        STAGE_SCRIPT


rule synthetic_metrics_figure:
    input:
        table=f"{SYN}/metrics.parquet",
    output:
        **stage_figures(
            bsyn_metrics_figure.STAGE,
            f"{SYN}/figures",
            reports={
                "metrics_vs_latent": dict(
                    caption="../report/synthetic_metrics.rst",
                    category="Synthetic",
                    subcategory="Metrics",
                    labels={"figure": "metrics vs latent size"},
                )
            },
        ),
    log:
        f"{SYN_LOGS}/synthetic_metrics_figure.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bsyn_metrics_figure.STAGE),
    script:
        STAGE_SCRIPT


if SYN_CFG["enabled"]:
    TARGETS["synthetic"] += [
        p for v, s in SYN_RUNS for p in figure_paths(bsyn_gram_grid.STAGE, f"{SYN}/figures", prefix=f"{v}_{s}_")
    ]
    TARGETS["synthetic"] += figure_paths(bsyn_metrics_figure.STAGE, f"{SYN}/figures")
    TARGETS["synthetic"] += [
        f"{SYN}/summary.json",
        f"{SYN}/metrics.parquet",
        f"{SYN}/metrics.csv",
        f"{SYN}/claims.csv",
        f"{SYN}/claims.parquet",
        f"{SYN}/claims.json",
        f"{SYN}/claims.html",
    ]
