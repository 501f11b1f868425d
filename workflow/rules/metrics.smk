# metrics stage rules: every geometry metric of the paper (§6), its code-less analyses (§6.8), the peers' metrics and
# the reproduction criteria (§10). Library: workflow/bows/metrics; the stages: bows.stages; tables are described in
# docs/metrics.md.


import bows.stages.criteria as bstage_criteria
import bows.stages.data as bstage_data
import bows.stages.mechanism as bstage_mechanism
import bows.stages.model as bstage_model
import bows.stages.months as bstage_months
import bows.stages.subspace as bstage_subspace
import bows.stages.sweep as bstage_sweep
import bows.stages.umap as bstage_umap


rule metrics_data:
    input:
        vocab=f"{VOC}/vocab.tsv",
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        windows=f"{WIN_SET}/train_windows.npy",
    output:
        **bstage_data.STAGE.table_outputs(f"{METRICS_SET}/data"),
    log:
        f"{LOGS}/metrics{WSET}/data.log",
    benchmark:
        f"{BENCH}/metrics{WSET}/data.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        **stage_params(bstage_data.STAGE),
    script:
        STAGE_SCRIPT


rule metrics_subspace:
    input:
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        windows=f"{WIN_SET}/train_windows.npy",
    output:
        **bstage_subspace.STAGE.file_outputs(subspace=f"{METRICS_SET}/data/subspace.npz"),
    log:
        f"{LOGS}/metrics{WSET}/subspace{ENC}.log",
    benchmark:
        f"{BENCH}/metrics{WSET}/subspace{ENC}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc: 600 + 3 * 8 * V * V // 1_000_000,
    params:
        # the number of eigenvectors, not the grid it comes from: a grid that grows below it reruns nothing
        **stage_params(bstage_subspace.STAGE, k=SUBSPACE_K),
    script:
        STAGE_SCRIPT


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
    threads: 1
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
        **bstage_months.STAGE.table_outputs(f"{METRICS}/months"),
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
        **stage_params(bstage_months.STAGE),
    script:
        STAGE_SCRIPT


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
        **bstage_mechanism.STAGE.table_outputs(f"{METRICS}/mechanism"),
    log:
        f"{LOGS}/metrics/mechanism.log",
    benchmark:
        f"{BENCH}/metrics/mechanism.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=8000,
    params:
        **stage_params(bstage_mechanism.STAGE),
    script:
        STAGE_SCRIPT


rule metrics_umap:
    input:
        model=f"{MODELS}/{MODEL_TAG}/{MODEL_FILE}",
        vocab=f"{VOC}/vocab.tsv",
    output:
        **bstage_umap.STAGE.table_outputs(f"{METRICS}/umap/{MODEL_TAG}"),
    log:
        f"{LOGS}/metrics/umap/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/metrics/umap/{MODEL_TAG}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        **stage_params(bstage_umap.STAGE),
    script:
        STAGE_SCRIPT


rule metrics_sweep:
    input:
        models=[f"{METRICS}/models/{s.tag}/metrics.parquet" for s in GRID],
        runs=[model_path(s, "run.json") for s in GRID],
        data=f"{METRICS}/data/metrics.parquet",
    output:
        **bstage_sweep.STAGE.table_outputs(METRICS),
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
        **stage_params(bstage_sweep.STAGE),
    script:
        STAGE_SCRIPT


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
        **bstage_criteria.STAGE.table_outputs(METRICS),
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
        **stage_params(bstage_criteria.STAGE),
    script:
        STAGE_SCRIPT


TARGETS["metrics"] += [
    *expand(rules.metrics_data.output, wset=""),
    *expand(rules.metrics_subspace.output, wset=""),
    *[p for s in GRID for p in bstage_model.STAGE.table_outputs(f"{METRICS}/models/{s.tag}").values()],
    *expand(rules.metrics_months.output, wset=""),
    *expand(rules.metrics_mechanism.output, wset=""),
    *[
        p
        for s in map(bcfg.model_ref, config["analysis"]["models"]["umap"])
        for p in bstage_umap.STAGE.table_outputs(f"{METRICS}/umap/{s.tag}").values()
    ],
    *expand(rules.metrics_sweep.output, wset=""),
    *expand(rules.metrics_criteria.output, wset=""),
]
