# Sharing trained grids (docs/sharing.md). `snakemake export` writes {EXPORT}: every grid model as safetensors with
# its settings, the vocabulary, the metric tables and criteria, the run's config, a model card and an RO-Crate.
# With train.source set, rule import_model places an export's models into the results tree instead of training them
# (the export is checked against the run at start). Library: workflow/bows/sharing.

import bows.sharing.steps.export_grid as bshare_grid
import bows.sharing.steps.export_model as bshare_model
import bows.sharing.steps.import_model as bshare_import
import bows.train_settings as btrain_settings
from bows.sharing import layout as bshare_layout
from bows.sharing.export import workflow_files as bshare_workflow_files
from bows.sharing.source import start_from as bshare_start_from

EXPORT = f"{RES}/export/V{V}_G{G}_S{S}{ENC}"
EXPORT_WORKFLOW = bshare_workflow_files(workflow.basedir)  # path in the export → workflow file
EXPORT_TABLES = bshare_layout.TABLES
SOURCE = config["train"]["source"]


rule export_model:
    input:
        model=f"{MODELS}/{MODEL_TAG}/{MODEL_FILE}",
        run=f"{MODELS}/{MODEL_TAG}/run.json",
    output:
        weights=f"{EXPORT}/{MODEL_TAG}/{bshare_layout.WEIGHTS}",
        config=f"{EXPORT}/{MODEL_TAG}/{bshare_layout.MODEL_CONFIG}",
        run=f"{EXPORT}/{MODEL_TAG}/{bshare_layout.RUN}",
    log:
        f"{LOGS}/export/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/export/{MODEL_TAG}.tsv"
    conda:
        "../../envs/share.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc: 600 + 8 * int(wc.latent) * V // 1_000_000,
    params:
        **stage_params(bshare_model.STAGE),
    script:
        STAGE_SCRIPT


rule export_grid:
    input:
        **{name: f"{METRICS}/{name}.parquet" for name in EXPORT_TABLES},
        models=[
            f"{EXPORT}/{s.tag}/{name}"
            for s in GRID
            for name in (bshare_layout.WEIGHTS, bshare_layout.MODEL_CONFIG, bshare_layout.RUN)
        ],
        vocab=f"{VOC}/vocab.tsv",
        tables_csv=[f"{METRICS}/{name}.csv" for name in EXPORT_TABLES],
        criteria=f"{METRICS}/criteria.json",
        corpus=expand(f"{RES}/corpus/{{split}}.parquet", split=SPLITS),
        windows=f"{WIN}/windows.json",
        workflow=list(EXPORT_WORKFLOW.values()),
    output:
        **bshare_grid.STAGE.table_outputs(f"{EXPORT}/{bshare_layout.TABLES_DIR}"),
        vocab=f"{EXPORT}/{bshare_layout.VOCAB}",
        criteria=f"{EXPORT}/{bshare_layout.CRITERIA}",
        config=f"{EXPORT}/{bshare_layout.RUN_CONFIG}",
        card=f"{EXPORT}/{bshare_layout.CARD}",
        crate=f"{EXPORT}/{bshare_layout.CRATE}",
        workflow=[f"{EXPORT}/{rel}" for rel in EXPORT_WORKFLOW],
    log:
        f"{LOGS}/export/grid.log",
    benchmark:
        f"{BENCH}/export/grid.tsv"
    conda:
        "../../envs/share.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bshare_grid.STAGE, workflow=list(EXPORT_WORKFLOW)),
    script:
        STAGE_SCRIPT


TARGETS["export"] = list(rules.export_grid.output)


if SOURCE["export"]:
    try:
        SOURCE_DIR = str(
            bshare_start_from(
                SOURCE,
                GRID,
                config,
                btrain_settings.RESULT_KEYS,
                f"{VOC}/vocab.tsv",
                EXPORT,
                check=workflow.is_main_process,
            )
        )
    except BowsError as err:
        raise WorkflowError(f"bows: {err}") from None

    ruleorder: import_model > train_model
    ruleorder: import_model > pca_model

    rule import_model:
        input:
            weights=f"{SOURCE_DIR}/{MODEL_TAG}/{bshare_layout.WEIGHTS}",
            config=f"{SOURCE_DIR}/{MODEL_TAG}/{bshare_layout.MODEL_CONFIG}",
            run=f"{SOURCE_DIR}/{MODEL_TAG}/{bshare_layout.RUN}",
            export_vocab=f"{SOURCE_DIR}/{bshare_layout.VOCAB}",
            vocab=f"{VOC}/vocab.tsv",
        output:
            model=f"{MODELS}/{MODEL_TAG}/{MODEL_FILE}",
            run=f"{MODELS}/{MODEL_TAG}/run.json",
        log:
            f"{LOGS}/import/{MODEL_TAG}.log",
        benchmark:
            f"{BENCH}/import/{MODEL_TAG}.tsv"
        priority: 100  # right after the vocabulary: a mismatch stops the run before the expensive jobs
        conda:
            "../../envs/share.yaml"
        threads: 1
        resources:
            mem_mb=lambda wc: 600 + 8 * int(wc.latent) * V // 1_000_000,
        params:
            **stage_params(bshare_import.STAGE),
        script:
            STAGE_SCRIPT
