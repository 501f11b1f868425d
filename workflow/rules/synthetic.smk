# Synthetic BOWS (paper §7): planted correlation structures → many small tied autoencoders → Gram grids.
# One data/train/metrics/figure job per (data variant, structure): every model of a structure trains in one batched
# job. Then a summary over all of them. Everything lands under results/synthetic/{synvar}/{structure}/.

from bows.synthetic.variants import variants as _syn_variants

SYN_CFG = config["synthetic"]
try:
    SYN_VARIANTS = _syn_variants(SYN_CFG)  # name → the synthetic section with that variant's data keys
except BowsError as err:
    raise WorkflowError(f"bows: {err}") from None
SYN_RUNS = [(v, s) for v, cfg in SYN_VARIANTS.items() for s in cfg["structures"]]
SYN_FORMATS = config["figures"]["formats"]
SYN_MAIN_FMT = main_format(SYN_FORMATS)
SYN_OTHER_FMTS = [f for f in SYN_FORMATS if f != SYN_MAIN_FMT]
SYN_LOGS = f"{SYN}/logs"
SYN_BENCH = f"{SYN}/benchmarks"  # benchmark: files (wall time, peak memory), beside the logs
SYN_W = "{synvar,[a-z][a-z0-9_]*}/{structure,[a-z0-9]+}"  # variant/structure in output paths
SYN_FIG = "{synvar,[a-z][a-z0-9_]*}_{structure,[a-z0-9]+}"


rule synthetic_data:
    output:
        npz=f"{SYN}/{SYN_W}/data.npz",
        json=f"{SYN}/{SYN_W}/data.json",
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
        code=code_of("synthetic_data.py"),
        synthetic=lambda w: SYN_VARIANTS[w.synvar],
    script:
        "../scripts/synthetic_data.py"


rule synthetic_train:
    input:
        npz=f"{SYN}/{{synvar}}/{{structure}}/data.npz",
    output:
        models=f"{SYN}/{SYN_W}/models.npz",
        json=f"{SYN}/{{synvar}}/{{structure}}/train.json",
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
        code=code_of("synthetic_train.py"),
        synthetic=lambda w: SYN_VARIANTS[w.synvar],
    script:
        "../scripts/synthetic_train.py"


rule synthetic_metrics:
    input:
        npz=f"{SYN}/{{synvar}}/{{structure}}/data.npz",
        models=f"{SYN}/{{synvar}}/{{structure}}/models.npz",
    output:
        metrics=multiext(f"{SYN}/{SYN_W}/metrics", ".parquet", ".csv"),
        gram=multiext(f"{SYN}/{{synvar}}/{{structure}}/gram", ".parquet", ".csv"),
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
        code=code_of("synthetic_metrics.py"),
        synthetic=lambda w: SYN_VARIANTS[w.synvar],
    script:
        "../scripts/synthetic_metrics.py"


rule synthetic_gram_grid:
    input:
        gram=f"{SYN}/{{synvar}}/{{structure}}/gram.parquet",
    output:
        main=report(
            f"{SYN}/figures/{SYN_FIG}_gram_grid.{SYN_MAIN_FMT}",
            caption="../report/synthetic_gram_grid.rst",
            category="Synthetic",
            subcategory="Gram grids",
            labels={"variant": "{synvar}", "structure": "{structure}", "figure": "Gram grid"},
        ),
        other=expand(f"{SYN}/figures/{{{{synvar}}}}_{{{{structure}}}}_gram_grid.{{fmt}}", fmt=SYN_OTHER_FMTS),
    log:
        f"{SYN_LOGS}/synthetic_gram_grid_{{synvar}}_{{structure}}.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        synthetic=lambda w: SYN_VARIANTS[w.synvar],
        figures=config["figures"],
        code=code_of("synthetic_gram_grid.py"),
    script:
        "../scripts/synthetic_gram_grid.py"


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
        main=report(
            f"{SYN}/figures/metrics_vs_latent.{SYN_MAIN_FMT}",
            caption="../report/synthetic_metrics.rst",
            category="Synthetic",
            subcategory="Metrics",
            labels={"figure": "metrics vs latent size"},
        ),
        other=expand(f"{SYN}/figures/metrics_vs_latent.{{fmt}}", fmt=SYN_OTHER_FMTS),
    log:
        f"{SYN_LOGS}/synthetic_metrics_figure.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        figures=config["figures"],
        code=code_of("synthetic_metrics_figure.py"),
    script:
        "../scripts/synthetic_metrics_figure.py"


if SYN_CFG["enabled"]:
    TARGETS["synthetic"] += [f"{SYN}/figures/{v}_{s}_gram_grid.{fmt}" for v, s in SYN_RUNS for fmt in SYN_FORMATS]
    TARGETS["synthetic"] += expand(f"{SYN}/figures/metrics_vs_latent.{{fmt}}", fmt=SYN_FORMATS)
    TARGETS["synthetic"] += [
        f"{SYN}/summary.json",
        f"{SYN}/metrics.parquet",
        f"{SYN}/metrics.csv",
        f"{SYN}/claims.csv",
        f"{SYN}/claims.parquet",
        f"{SYN}/claims.json",
        f"{SYN}/claims.html",
    ]
