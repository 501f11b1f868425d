# Training (paper §4): one job per model of train.grid, the tied autoencoder on the virtual windows.
# Resumable state lives in {CKPTS}/... (not an output): a killed job started again continues from its last epoch.
# With train.device: cuda every job asks for resources gpu (1, or its slots with train.jobs_per_gpu > 1), runs in the
# CUDA env (envs/train-cuda.yaml: no CPU-only torch) and takes its GPU as bows.devices says; auto asks for no GPU.

import bows.devices as bdev
import bows.train as btrain


rule train_model:
    input:
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        train_windows=f"{WIN_SET}/train_windows.npy",
        heldout_windows=f"{WIN_SET}/heldout_windows.npy",
    output:
        model=f"{MODELS_SET}/{MODEL_TAG}/{MODEL_FILE}",
        run=f"{MODELS_SET}/{MODEL_TAG}/run.json",
    log:
        f"{LOGS}/train{WSET}/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/train{WSET}/{MODEL_TAG}.tsv"
    wildcard_constraints:
        variant="relu|linear",
    conda:
        "../../envs/train-cuda.yaml" if config["train"]["device"] == "cuda" else "../../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        **bdev.rule_resources(config["train"]),
        mem_mb=lambda wc: btrain.memory_estimate_mb(int(wc.latent), V, config["train"]["batch_size"]),
        runtime=config["train"]["runtime"],
    params:
        code=code_of("train_model.py"),
        train=btrain.result_params(config["train"]),  # keys that change the weights: a change retrains
        windows=WINDOWS_TRAIN,
        docs=lambda wc, input: input.docs.removesuffix(".json"),
        ckpt=lambda wc: f"{for_set(CKPTS_SET, wc.wset)}/{wc.variant}/L{wc.latent}_wd{wc.wd}_seed{wc.seed}",
    script:
        "../scripts/train_model.py"


rule pca_model:
    input:
        subspace=f"{METRICS_SET}/data/subspace.npz",
    output:
        model=f"{MODELS_SET}/pca/L{{latent}}_wd{{wd}}_seed{{seed}}/{MODEL_FILE}",
        run=f"{MODELS_SET}/pca/L{{latent}}_wd{{wd}}_seed{{seed}}/run.json",
    log:
        f"{LOGS}/train{WSET}/pca/L{{latent}}_wd{{wd}}_seed{{seed}}.log",
    benchmark:
        f"{BENCH}/train{WSET}/pca/L{{latent}}_wd{{wd}}_seed{{seed}}.tsv"
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
