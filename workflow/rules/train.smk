# Training (paper §4): one job per model of train.grid, the tied autoencoder on the virtual windows.
# Resumable state lives in {CKPTS}/... (not an output): a killed job started again continues from its last epoch.
# With train.device: cuda every job asks for resources gpu (1, or its slots with train.jobs_per_gpu > 1), runs in the
# CUDA env (envs/train-cuda.yaml: no CPU-only torch) and takes its GPU as bows.devices says; auto asks for no GPU.
# The job's config: bows.stages.train.STAGE (the train keys that change the weights rerun it; device, threads and
# checkpoint cadence are settings and rerun nothing).

import bows.devices as bdev
import bows.stages.train as bstage_train


rule train_model:
    input:
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        train_windows=f"{WIN}/train_windows.npy",
        heldout_windows=f"{WIN}/heldout_windows.npy",
    output:
        model=f"{MODELS}/{MODEL_TAG}/{MODEL_FILE}",
        run=f"{MODELS}/{MODEL_TAG}/run.json",
    log:
        f"{LOGS}/train/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/train/{MODEL_TAG}.tsv"
    wildcard_constraints:
        variant="relu|linear",
    conda:
        "../../envs/train-cuda.yaml" if config["train"]["device"] == "cuda" else "../../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        **bdev.rule_resources(config["train"]),
        mem_mb=lambda wc: bstage_train.memory_estimate_mb(int(wc.latent), V, config["train"]["batch_size"]),
        runtime=config["train"]["runtime"],
    params:
        **stage_params(
            bstage_train.STAGE,
            docs=lambda wc, input: input.docs.removesuffix(".json"),
            ckpt=lambda wc: f"{CKPTS}/{wc.variant}/L{wc.latent}_wd{wc.wd}_seed{wc.seed}",
        ),
    script:
        STAGE_SCRIPT


rule pca_model:
    input:
        subspace=f"{METRICS}/data/subspace.npz",
    output:
        model=f"{MODELS}/pca/L{{latent}}_wd{{wd}}_seed{{seed}}/{MODEL_FILE}",
        run=f"{MODELS}/pca/L{{latent}}_wd{{wd}}_seed{{seed}}/run.json",
    log:
        f"{LOGS}/train/pca/L{{latent}}_wd{{wd}}_seed{{seed}}.log",
    benchmark:
        f"{BENCH}/train/pca/L{{latent}}_wd{{wd}}_seed{{seed}}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc: 600 + 8 * V * SUBSPACE_K * 3 // 1_000_000,
    params:
        code=code_of("pca_model.py"),
    script:
        "../scripts/pca_model.py"


TARGETS["train"] += [model_path(spec) for spec in GRID]
