# Training dynamics and the interactive explorers (docs/dynamics.md). Library: bows.snapshots, bows.metrics.dynamics,
# bows.figures.dynamics, bows.explorer; stage modules bows.stages.{dynamics,dynamics_summary,dynamics_figure,explorer}.
# The dynamics rules run only when train.snapshots.count > 0 (the snapshots are outputs of train_model).

import bows.explorer as bexplorer
import bows.snapshots as bsnap
import bows.stages.dynamics as bstage_dynamics
import bows.stages.dynamics_figure as bstage_dynamics_figure
import bows.stages.dynamics_summary as bstage_dynamics_summary
import bows.stages.explorer as bstage_explorer

SNAPSHOTS = bsnap.SnapshotSettings.from_config(config["train"])
DYN_CFG = config["dynamics"]
DYNAMICS_MODELS = bsnap.dynamics_models(GRID, DYN_CFG["models"], DYN_CFG["latent"]) if SNAPSHOTS.enabled else []
EXPLORER = f"{RES}/explorer/V{V}_G{G}_S{S}{ENC}"
try:
    EXPLORER_MODELS = bexplorer.explorer_models(config)
except BowsError as err:
    raise WorkflowError(f"bows: {err}") from None


rule metrics_dynamics:
    input:
        **bsnap.snapshot_inputs(f"{MODELS}/{MODEL_TAG}", config["train"]),
        run=f"{MODELS}/{MODEL_TAG}/run.json",
        vocab=f"{VOC}/vocab.tsv",
        subspace=f"{METRICS}/data/subspace.npz",
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        docs=f"{VOC}/docs/train.json",
        heldout_windows=f"{WIN}/heldout_windows.npy",
    output:
        **bstage_dynamics.STAGE.table_outputs(f"{METRICS}/dynamics/{MODEL_TAG}"),
    log:
        f"{LOGS}/metrics/dynamics/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/metrics/dynamics/{MODEL_TAG}.tsv"
    wildcard_constraints:
        variant="|".join(TRAINED_VARIANTS),
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc: bstage_dynamics.memory_estimate_mb(int(wc.latent), V, SNAPSHOTS.count),
    params:
        **stage_params(bstage_dynamics.STAGE, docs=lambda wc, input: input.docs.removesuffix(".json")),
    script:
        STAGE_SCRIPT


rule metrics_dynamics_all:
    input:
        tables=[f"{METRICS}/dynamics/{s.tag}/dynamics.parquet" for s in DYNAMICS_MODELS],
    output:
        **bstage_dynamics_summary.STAGE.table_outputs(METRICS),
    log:
        f"{LOGS}/metrics/dynamics_all.log",
    benchmark:
        f"{BENCH}/metrics/dynamics_all.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bstage_dynamics_summary.STAGE),
    script:
        STAGE_SCRIPT


rule fig_dynamics:
    input:
        table=f"{METRICS}/dynamics.parquet",
        settle=f"{METRICS}/dynamics_settle.parquet",
    output:
        **bstage_dynamics_figure.STAGE.file_outputs(
            settle_csv=report(
                f"{FIGS}/tables/dynamics_settle.csv",
                caption="../report/dynamics_settle.rst",
                category="Training dynamics",
                labels={"figure": "settling of the figure's models (table)"},
            )
        ),
        **stage_figures(
            bstage_dynamics_figure.STAGE,
            FIGS,
            reports={
                "dynamics": dict(
                    caption="../report/fig_dynamics.rst",
                    category="Training dynamics",
                    labels={"figure": "dynamics over training"},
                )
            },
        ),
    log:
        f"{LOGS}/figures/dynamics.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bstage_dynamics_figure.STAGE),
    script:
        STAGE_SCRIPT


rule explorer_model:
    input:
        model=f"{MODELS}/{MODEL_TAG}/{MODEL_FILE}",
        vocab=f"{VOC}/vocab.tsv",
    output:
        **bstage_explorer.STAGE.file_outputs(
            html=report(
                f"{EXPLORER}/{MODEL_TAG}.html",
                caption="../report/explorer.rst",
                category="Explorers",
                labels={"model": "{variant} L{latent} wd{wd} seed{seed}"},
            )
        ),
    log:
        f"{LOGS}/explorer/{MODEL_TAG}.log",
    benchmark:
        f"{BENCH}/explorer/{MODEL_TAG}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc: 1500 + 12 * int(wc.latent) * V // 1_000_000,
    params:
        **stage_params(bstage_explorer.STAGE),
    script:
        STAGE_SCRIPT


TARGETS.setdefault("dynamics", [])
TARGETS.setdefault("explorer", [])
if DYNAMICS_MODELS:
    TARGETS["dynamics"] += [
        *bstage_dynamics_summary.STAGE.table_outputs(METRICS).values(),
        *stage_figures(bstage_dynamics_figure.STAGE, FIGS).values(),
    ]
TARGETS["explorer"] += [f"{EXPLORER}/{s.tag}.html" for s in EXPLORER_MODELS]
EXPLORERS.update({s.tag: f"{EXPLORER}/{s.tag}.html" for s in EXPLORER_MODELS})  # linked from the front page
