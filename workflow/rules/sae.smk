# SAEs on BOWS: a ground-truth benchmark for sparse autoencoders on real text. A trained BOWS model's latent
# h = W x is a sum of known word directions (columns of W); SAEs trained on h are scored against them.
# Per model of sae.models: activations → one training job per architecture (its widths × sparsities) → scores.
# Then one summary (claims) and one figure job. Library: workflow/bows/sae; docs/sae.md.

import bows.devices as bdev
from bows.metrics.tables import metric_tables
from bows.sae.settings import memory_estimate_mb as _sae_mem
from bows.sae.settings import models as _sae_models

SAE_CFG = config["sae"]
SAE_DIR = f"{RES}/sae/V{V}_G{G}_S{S}"
SAE_MODELS = [s.tag for s in _sae_models(SAE_CFG)] if SAE_CFG["enabled"] else []
SAE_LOGS = f"{LOGS}/sae"
SAE_BENCH = f"{BENCH}/sae"  # benchmark: files (wall time, peak memory), beside the logs
SAE_FORMATS = config["figures"]["formats"]
SAE_MAIN = "png" if "png" in SAE_FORMATS else SAE_FORMATS[0]
SAE_OTHER = [f for f in SAE_FORMATS if f != SAE_MAIN]
SAE_PARAMS = {k: v for k, v in SAE_CFG.items() if k not in ("claims", "threads", "device", "gpu_model")}
# the keys that change the activations (a change of widths or sparsities retrains, but does not resample)
SAE_DATA = {k: SAE_CFG[k] for k in ("group_size", "words", "groups", "train_samples", "heldout_samples", "seed")}
SAE_TABLES = ("scores", "words", "hedging")
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
        npz=f"{SAE_DIR}/{MODEL_TAG}/activations.npz",
        json=f"{SAE_DIR}/{MODEL_TAG}/activations.json",
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
        code=code_of("sae_activations.py"),
        sae=SAE_DATA,
        word_groups={k: v for k, v in config["analysis"]["word_groups"].items() if k in SAE_CFG["groups"]},
        stride=S,
        docs=lambda wc, input: input.docs.removesuffix(".json"),
    script:
        "../scripts/sae_activations.py"


rule sae_train:
    input:
        npz=f"{SAE_DIR}/{MODEL_TAG}/activations.npz",
    output:
        saes=f"{SAE_DIR}/{MODEL_TAG}/{{arch,relu|topk|matryoshka}}/saes.pt",
        history=f"{SAE_DIR}/{MODEL_TAG}/{{arch}}/history.json",
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
        code=code_of("sae_train.py"),
        sae=SAE_PARAMS,
        device=SAE_CFG["device"],
    script:
        "../scripts/sae_train.py"


rule sae_scores:
    input:
        npz=f"{SAE_DIR}/{MODEL_TAG}/activations.npz",
        json=f"{SAE_DIR}/{MODEL_TAG}/activations.json",
        saes=[f"{SAE_DIR}/{MODEL_TAG}/{a}/saes.pt" for a in SAE_CFG["architectures"]],
    output:
        **metric_tables(f"{SAE_DIR}/{MODEL_TAG}", *SAE_TABLES),
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
        code=code_of("sae_scores.py"),
        sae=SAE_PARAMS,
        tag=lambda wc: f"{wc.variant}/L{wc.latent}_wd{wc.wd}_seed{wc.seed}",
    script:
        "../scripts/sae_scores.py"


import bows.sae.steps.summary as bsae_summary


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
        benchmark=report(
            f"{SAE_DIR}/figures/sae_benchmark.{SAE_MAIN}",
            caption="../report/sae_benchmark.rst",
            category="SAEs on BOWS",
            subcategory="Figures",
            labels={"figure": "MCC vs L0 and width, hedging"},
        ),
        recovery=report(
            f"{SAE_DIR}/figures/sae_recovery.{SAE_MAIN}",
            caption="../report/sae_recovery.rst",
            category="SAEs on BOWS",
            subcategory="Figures",
            labels={"figure": "recovery vs word frequency"},
        ),
        other=[f"{SAE_DIR}/figures/sae_{n}.{fmt}" for n in ("benchmark", "recovery") for fmt in SAE_OTHER],
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
        figures=config["figures"],
        code=code_of("sae_figures.py"),
    script:
        "../scripts/sae_figures.py"


if SAE_CFG["enabled"]:
    TARGETS["sae"] += [f"{SAE_DIR}/{n}.{ext}" for n in (*SAE_TABLES, "claims") for ext in ("parquet", "csv")]
    TARGETS["sae"] += [f"{SAE_DIR}/summary.json", f"{SAE_DIR}/claims.json", f"{SAE_DIR}/claims.html"]
    TARGETS["sae"] += [f"{SAE_DIR}/figures/sae_{n}.{fmt}" for n in ("benchmark", "recovery") for fmt in SAE_FORMATS]
