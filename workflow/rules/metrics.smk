# metrics stage rules: every geometry metric of the paper (§6), its code-less analyses (§6.8), the peers' metrics and
# the reproduction criteria (§10). Library: workflow/bows/metrics; tables are described in docs/metrics.md.


import bows.stages.model as bstage_model
from bows.metrics.tables import metric_tables

# the analysis settings a per-model rule depends on (thresholds and model choices only matter downstream)
ANALYSIS_CORE = {k: v for k, v in config["analysis"].items() if k not in ("thresholds", "models")}
ANALYSIS_NO_THRESHOLDS = {k: v for k, v in config["analysis"].items() if k != "thresholds"}

MODEL_TABLES = bstage_model.STAGE.tables
MECH_TABLES = ("r2", "r2_gap", "preact", "density", "towers", "months_r2", "strata", "metrics")


rule metrics_data:
    input:
        vocab=f"{VOC}/vocab.tsv",
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        windows=f"{WIN_SET}/train_windows.npy",
    output:
        **metric_tables(f"{METRICS_SET}/data", "cooc", "ring", "metrics"),
    log:
        f"{LOGS}/metrics{WSET}/data.log",
    benchmark:
        f"{BENCH}/metrics{WSET}/data.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=4000,
    params:
        code=code_of("metrics_data.py"),
        analysis=ANALYSIS_CORE,
        windows=WINDOWS_INDEX,
        prefix=lambda wc, input: input.indptr.removesuffix(".indptr.npy"),
    script:
        "../scripts/metrics_data.py"


rule metrics_subspace:
    input:
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        windows=f"{WIN_SET}/train_windows.npy",
    output:
        subspace=f"{METRICS_SET}/data/subspace.npz",
    log:
        f"{LOGS}/metrics{WSET}/subspace{ENC}.log",
    benchmark:
        f"{BENCH}/metrics{WSET}/subspace{ENC}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=lambda wc: 600 + 3 * 8 * V * V // 1_000_000,
    params:
        code=code_of("metrics_subspace.py"),
        analysis={k: config["analysis"][k] for k in ("subspace_windows", "max_windows", "seed")},
        windows=WINDOWS,
        k=SUBSPACE_K,
        prefix=lambda wc, input: input.indptr.removesuffix(".indptr.npy"),
    script:
        "../scripts/metrics_subspace.py"


rule metrics_model:
    input:
        model=f"{MODELS_SET}/{MODEL_TAG}/{MODEL_FILE}",
        vocab=f"{VOC}/vocab.tsv",
        cooc=f"{METRICS_SET}/data/cooc.parquet",
        subspace=f"{METRICS_SET}/data/subspace.npz",
    output:
        **bstage_model.STAGE.table_outputs(f"{METRICS_SET}/models/{MODEL_TAG}"),
    log:
        f"{LOGS}/metrics{WSET}/models/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/metrics{WSET}/models/{MODEL_TAG}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=lambda wc: bstage_model.memory_estimate_mb(int(wc.latent), V),
    params:
        **stage_params(bstage_model.STAGE),
    script:
        STAGE_SCRIPT


rule metrics_months:
    input:
        model=ref_model("months"),
        vocab=f"{VOC}/vocab.tsv",
        ring=f"{METRICS}/data/ring.parquet",
    output:
        **metric_tables(f"{METRICS}/months", "ring", "seasonal", "metrics"),
    log:
        f"{LOGS}/metrics/months.log",
    benchmark:
        f"{BENCH}/metrics/months.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        code=code_of("metrics_months.py"),
        analysis=ANALYSIS_NO_THRESHOLDS,
        tag=bcfg.model_ref(config["analysis"]["models"]["months"]).tag,
    script:
        "../scripts/metrics_months.py"


rule metrics_mechanism:
    input:
        model=ref_model("mechanism"),
        vocab=f"{VOC}/vocab.tsv",
        heldout=expand(f"{VOC}/docs/{{split}}.json", split=["validation", "test"]),
        heldout_indptr=expand(f"{VOC}/docs/{{split}}.indptr.npy", split=["validation", "test"]),
        heldout_indices=expand(f"{VOC}/docs/{{split}}.indices.npy", split=["validation", "test"]),
        train=f"{VOC}/docs/train.json",
        train_windows=f"{WIN}/train_windows.npy",
    output:
        **metric_tables(f"{METRICS}/mechanism", *MECH_TABLES),
    log:
        f"{LOGS}/metrics/mechanism.log",
    benchmark:
        f"{BENCH}/metrics/mechanism.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=8000,
    params:
        code=code_of("metrics_mechanism.py"),
        analysis=ANALYSIS_NO_THRESHOLDS,
        windows=WINDOWS_INDEX,
        heldout=lambda wc, input: [p.removesuffix(".json") for p in input.heldout],
        train=lambda wc, input: input.train.removesuffix(".json"),
        tag=bcfg.model_ref(config["analysis"]["models"]["mechanism"]).tag,
    script:
        "../scripts/metrics_mechanism.py"


rule metrics_umap:
    input:
        model=f"{MODELS}/{MODEL_TAG}/{MODEL_FILE}",
        vocab=f"{VOC}/vocab.tsv",
    output:
        table=f"{METRICS}/umap/{MODEL_TAG}.parquet",
        csv=f"{METRICS}/umap/{MODEL_TAG}.csv",
    log:
        f"{LOGS}/metrics/umap/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/metrics/umap/{MODEL_TAG}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=4000,
    params:
        code=code_of("metrics_umap.py"),
        analysis=ANALYSIS_CORE,
        tag=lambda wc: f"{wc.variant}/L{wc.latent}_wd{wc.wd}_seed{wc.seed}",
    script:
        "../scripts/metrics_umap.py"


rule metrics_sweep:
    input:
        models=[f"{METRICS}/models/{s.tag}/metrics.parquet" for s in GRID],
        runs=[model_path(s, "run.json") for s in GRID],
        data=f"{METRICS}/data/metrics.parquet",
    output:
        **metric_tables(METRICS, "metrics_all", "sweep", "sweep_summary", "losses", "loss_fit", "clusters", "subspace"),
    log:
        f"{LOGS}/metrics/sweep.log",
    benchmark:
        f"{BENCH}/metrics/sweep.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        code=code_of("metrics_sweep.py"),
        analysis=ANALYSIS_NO_THRESHOLDS,
        tags=[s.tag for s in GRID],
    script:
        "../scripts/metrics_sweep.py"


rule metrics_criteria:
    input:
        vocab=f"{VOC}/vocab.tsv",
        windows=f"{WIN}/windows.json",
        data=f"{METRICS}/data/metrics.parquet",
        metrics_all=f"{METRICS}/metrics_all.parquet",
        months=f"{METRICS}/months/metrics.parquet",
        mechanism=f"{METRICS}/mechanism/metrics.parquet",
        r2_gap=f"{METRICS}/mechanism/r2_gap.parquet",
        sweep=f"{METRICS}/sweep_summary.parquet",
        clusters=f"{METRICS}/clusters.parquet",
        subspace=f"{METRICS}/subspace.parquet",
    output:
        json=f"{METRICS}/criteria.json",
    log:
        f"{LOGS}/metrics/criteria.log",
    benchmark:
        f"{BENCH}/metrics/criteria.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        code=code_of("metrics_criteria.py"),
        config=section("vocab", "windows", "train", "analysis"),
    script:
        "../scripts/metrics_criteria.py"


TARGETS["metrics"] += [
    *metric_tables(f"{METRICS}/data", "cooc", "ring", "metrics").values(),
    *[f"{METRICS}/models/{s.tag}/{n}.{ext}" for s in GRID for n in MODEL_TABLES for ext in ("parquet", "csv")],
    *metric_tables(f"{METRICS}/months", "ring", "seasonal", "metrics").values(),
    *metric_tables(f"{METRICS}/mechanism", *MECH_TABLES).values(),
    *[
        f"{METRICS}/umap/{s.tag}.{ext}"
        for s in map(bcfg.model_ref, config["analysis"]["models"]["umap"])
        for ext in ("parquet", "csv")
    ],
    *metric_tables(
        METRICS, "metrics_all", "sweep", "sweep_summary", "losses", "loss_fit", "clusters", "subspace"
    ).values(),
    f"{METRICS}/data/subspace.npz",
    f"{METRICS}/criteria.json",
]
