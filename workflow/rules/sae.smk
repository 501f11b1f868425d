# SAEs on BOWS: a ground-truth benchmark for sparse autoencoders on real text. A trained BOWS model's latent
# h = W x is a sum of known word directions (columns of W); SAEs trained on h are scored against them.
# Per model of sae.models: activations → one training job per architecture (its widths × sparsities) → scores.
# Then one summary (claims) and one figure job. Library: workflow/bows/sae; docs/sae.md.

import bows.devices as bdev
import bows.figures.stages.sae as bsae_figures
import bows.sae.steps.activations as bsae_activations
import bows.sae.steps.scores as bsae_scores
import bows.sae.steps.summary as bsae_summary
import bows.sae.steps.train as bsae_train
from bows.metrics.tables import metric_tables
from bows.sae.settings import memory_estimate_mb as _sae_mem
from bows.sae.settings import models as _sae_models

SAE_CFG = config["sae"]
SAE_DIR = f"{RES}/sae/V{V}_G{G}_S{S}"
SAE_MODELS = [s.tag for s in _sae_models(SAE_CFG)] if SAE_CFG["enabled"] else []
SAE_LOGS = f"{LOGS}/sae"
SAE_BENCH = f"{BENCH}/sae"  # benchmark: files (wall time, peak memory), beside the logs
SAE_TABLES = bsae_scores.STAGE.tables
_sae_mb = lambda wc: _sae_mem(SAE_CFG, int(wc.latent), V)  # activations + the cosine matrix of the scores


rule sae_activations:
    input:
        model=f"{MODELS}/{MODEL_TAG}/{MODEL_FILE}",
        vocab=f"{VOC}/vocab.tsv",
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        train_windows=f"{WIN}/train_windows.npy",
        heldout_windows=f"{WIN}/heldout_windows.npy",
    output:
        **bsae_activations.STAGE.file_outputs(
            npz=f"{SAE_DIR}/{MODEL_TAG}/activations.npz", json=f"{SAE_DIR}/{MODEL_TAG}/activations.json"
        ),
    log:
        f"{SAE_LOGS}/activations/{MODEL_TAG}.log",
    benchmark:
        f"{SAE_BENCH}/activations/{MODEL_TAG}.tsv"
    conda:
        "../../envs/sae.yaml"
    threads: 1
    resources:
        mem_mb=_sae_mb,
    params:
        **stage_params(
            bsae_activations.STAGE,
            # the word groups of sae.groups only: another group's words change nothing here
            word_groups={k: v for k, v in config["analysis"]["word_groups"].items() if k in SAE_CFG["groups"]},
            docs=lambda wc, input: input.docs.removesuffix(".json"),
        ),
    script:
        STAGE_SCRIPT


rule sae_train:
    input:
        npz=f"{SAE_DIR}/{MODEL_TAG}/activations.npz",
    output:
        **bsae_train.STAGE.file_outputs(
            saes=f"{SAE_DIR}/{MODEL_TAG}/{{arch,relu|topk|matryoshka}}/saes.pt",
            history=f"{SAE_DIR}/{MODEL_TAG}/{{arch}}/history.json",
        ),
    log:
        f"{SAE_LOGS}/train/{MODEL_TAG}_{{arch}}.log",
    benchmark:
        f"{SAE_BENCH}/train/{MODEL_TAG}_{{arch}}.tsv"
    conda:
        "../../envs/sae.yaml"
    threads: SAE_CFG["threads"]
    resources:
        **bdev.job_resources(SAE_CFG["device"], SAE_CFG["gpu_model"]),
        mem_mb=_sae_mb,
    params:
        **stage_params(bsae_train.STAGE),
    script:
        STAGE_SCRIPT


rule sae_scores:
    input:
        npz=f"{SAE_DIR}/{MODEL_TAG}/activations.npz",
        json=f"{SAE_DIR}/{MODEL_TAG}/activations.json",
        saes=[f"{SAE_DIR}/{MODEL_TAG}/{a}/saes.pt" for a in SAE_CFG["architectures"]],
    output:
        **bsae_scores.STAGE.table_outputs(f"{SAE_DIR}/{MODEL_TAG}"),
    log:
        f"{SAE_LOGS}/scores/{MODEL_TAG}.log",
    benchmark:
        f"{SAE_BENCH}/scores/{MODEL_TAG}.tsv"
    conda:
        "../../envs/sae.yaml"
    threads: 1
    resources:
        mem_mb=_sae_mb,
    params:
        **stage_params(bsae_scores.STAGE),
    script:
        STAGE_SCRIPT


rule sae_summary:
    input:
        scores=[f"{SAE_DIR}/{m}/scores.parquet" for m in SAE_MODELS],
        hedging=[f"{SAE_DIR}/{m}/hedging.parquet" for m in SAE_MODELS],
        words=[f"{SAE_DIR}/{m}/words.parquet" for m in SAE_MODELS],
        activations=[f"{SAE_DIR}/{m}/activations.json" for m in SAE_MODELS],
        histories=[f"{SAE_DIR}/{m}/{a}/history.json" for m in SAE_MODELS for a in SAE_CFG["architectures"]],
    output:
        **bsae_summary.STAGE.table_outputs(SAE_DIR),
        json=f"{SAE_DIR}/summary.json",
        claims_json=f"{SAE_DIR}/claims.json",
        claims_html=report(
            f"{SAE_DIR}/claims.html",
            caption="../report/claims.rst",
            category="SAEs on BOWS",
            subcategory="Claims",
            labels={"table": "the SAE papers' claims"},
        ),
    log:
        f"{SAE_LOGS}/summary.log",
    benchmark:
        f"{SAE_BENCH}/summary.tsv"
    conda:
        "../../envs/sae.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bsae_summary.STAGE, models=SAE_MODELS),
    script:
        STAGE_SCRIPT


rule sae_figures:
    input:
        scores=f"{SAE_DIR}/scores.parquet",
        hedging=f"{SAE_DIR}/hedging.parquet",
        words=f"{SAE_DIR}/words.parquet",
        summary=f"{SAE_DIR}/summary.json",
    output:
        **stage_figures(
            bsae_figures.STAGE,
            f"{SAE_DIR}/figures",
            prefix="sae_",
            reports={
                "benchmark": dict(
                    caption="../report/sae_benchmark.rst",
                    category="SAEs on BOWS",
                    subcategory="Figures",
                    labels={"figure": "MCC vs L0 and width, hedging"},
                ),
                "recovery": dict(
                    caption="../report/sae_recovery.rst",
                    category="SAEs on BOWS",
                    subcategory="Figures",
                    labels={"figure": "recovery vs word frequency"},
                ),
            },
        ),
    log:
        f"{SAE_LOGS}/figures.log",
    benchmark:
        f"{SAE_BENCH}/figures.tsv"
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bsae_figures.STAGE),
    script:
        STAGE_SCRIPT


if SAE_CFG["enabled"]:
    TARGETS["sae"] += [f"{SAE_DIR}/{n}.{ext}" for n in (*SAE_TABLES, "claims") for ext in ("parquet", "csv")]
    TARGETS["sae"] += [f"{SAE_DIR}/summary.json", f"{SAE_DIR}/claims.json", f"{SAE_DIR}/claims.html"]
    TARGETS["sae"] += figure_paths(bsae_figures.STAGE, f"{SAE_DIR}/figures", prefix="sae_")
