# Training (paper §4): one job per model of train.grid, the tied autoencoder on the virtual windows.
# Resumable state lives in {CKPTS}/... (not an output): a killed job started again continues from its last epoch.
# Snapshots over training (train.snapshots) are outputs beside the model; TensorBoard logs (train.tensorboard) are not.
# With train.device: cuda every job asks for resources gpu (1, or its slots with train.jobs_per_gpu > 1), runs in the
# CUDA env (envs/train-cuda.yaml: no CPU-only torch) and takes its GPU as bows.devices says; auto asks for no GPU.
# The job's config: bows.stages.train.STAGE (the train keys that change the weights rerun it; device, threads and
# checkpoint cadence are settings and rerun nothing).

import bows.devices as bdev
import bows.snapshots as bsnap
import bows.stages.train as bstage_train
import bows.stages.pca as bstage_pca
from bows.grid import BASELINE_VARIANTS, TRAINED_VARIANTS


rule train_model:
    input:
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        train_windows=f"{WIN_SET}/train_windows.npy",
        heldout_windows=f"{WIN_SET}/heldout_windows.npy",
    output:
        **bsnap.snapshot_files(f"{MODELS_SET}/{MODEL_TAG}", config["train"]),  # train.snapshots (none when off)
        **bstage_train.STAGE.file_outputs(
            model=f"{MODELS_SET}/{MODEL_TAG}/{MODEL_FILE}", run=f"{MODELS_SET}/{MODEL_TAG}/run.json"
        ),
    log:
        f"{LOGS}/train{WSET}/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/train{WSET}/{MODEL_TAG}.tsv"
    wildcard_constraints:
        variant="|".join(TRAINED_VARIANTS),
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
            ckpt=lambda wc: f"{for_set(CKPTS_SET, wc.wset)}/{wc.variant}/L{wc.latent}_wd{wc.wd}_seed{wc.seed}",
        ),
    script:
        STAGE_SCRIPT


rule pca_model:
    input:
        subspace=f"{METRICS_SET}/data/subspace.npz",
    output:
        **bstage_pca.STAGE.file_outputs(
            model=f"{MODELS_SET}/{MODEL_TAG}/{MODEL_FILE}", run=f"{MODELS_SET}/{MODEL_TAG}/run.json"
        ),
    log:
        f"{LOGS}/train{WSET}/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/train{WSET}/{MODEL_TAG}.tsv"
    wildcard_constraints:
        variant="|".join(BASELINE_VARIANTS),
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc: 600 + 8 * V * SUBSPACE_K * 3 // 1_000_000,
    params:
        **stage_params(bstage_pca.STAGE),
    script:
        STAGE_SCRIPT


TARGETS["train"] += [model_path(spec) for spec in GRID]
