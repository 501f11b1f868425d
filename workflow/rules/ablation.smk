# The co-occurrence ablation (docs/ablation.md). windows.exclude_cooccurrence drops every training window that holds
# two distinct words of a group; a size-matched random drop is its control. Both are window sets ({wset}, common.smk)
# that train_model / pca_model train and metrics_data / metrics_subspace / metrics_model analyse like the full set.
# This file adds their window index, the table over the three sets with its criterion, and the figure.

import bows.stages.ablation as bstage_ablation
import bows.stages.ablation_windows as bstage_ablation_windows
import bows.stages.fig_ablation as bstage_fig_ablation

ABLATION_GROUPS = config["windows"]["exclude_cooccurrence"]
ABLATION_WORD_GROUPS = {g: config["analysis"]["word_groups"][g] for g in ABLATION_GROUPS}
# The rules below exist whatever the config says (the repository's rule checks see them); with the ablation off no
# target asks for them, and their sets get the placeholder group "off" (the {wset} wildcard matches none of them).
ABLATION_SUFFIXES = babl.window_set_suffixes(ABLATION_GROUPS or ["off"])  # full, ablated, control
ABLATION_SETS = list(ABLATION_SUFFIXES)
ABLATION_TAGS = [s.tag for s in babl.ablation_models(config)] if ABLATION_GROUPS else []
ABLATION_CYCLIC = babl.cyclic_groups(ABLATION_GROUPS, ABLATION_WORD_GROUPS)
ABLATION_RING_GROUP = ABLATION_CYCLIC[0] if ABLATION_CYCLIC else None  # the group the figure draws
ABLATION = f"{METRICS}/ablation"
ABLATION_PARAMS = {"window_sets": ABLATION_SETS, "model_tags": ABLATION_TAGS}


# paths of every window set, in table order: a METRICS_SET template, and a metrics_model table of every model
_per_set = lambda template: [for_set(template, ABLATION_SUFFIXES[s]) for s in ABLATION_SETS]
_per_model = lambda name: [
    f"{for_set(METRICS_SET, ABLATION_SUFFIXES[s])}/models/{t}/{name}.parquet"
    for s in ABLATION_SETS
    for t in ABLATION_TAGS
]
# the figure in every format (the targets)
ABLATION_FIGURES = figure_paths(bstage_fig_ablation.STAGE, FIGS)


rule ablate_windows:
    input:
        docs=f"{VOC}/docs/train.json",
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        vocab=f"{VOC}/vocab.tsv",
        train_windows=f"{WIN}/train_windows.npy",
        heldout_windows=f"{WIN}/heldout_windows.npy",
    output:
        **bstage_ablation_windows.STAGE.file_outputs(
            **{
                f"{kind}_{name}": f"{WIN}{ABLATION_SUFFIXES[kind]}/{file}"
                for kind in ("ablated", "control")
                for name, file in (
                    ("train", "train_windows.npy"),
                    ("heldout", "heldout_windows.npy"),
                    ("stats", "windows.json"),
                )
            }
        ),
    log:
        f"{LOGS}/ablate_windows.log",
    benchmark:
        f"{BENCH}/ablate_windows.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bstage_ablation_windows.STAGE, word_groups=ABLATION_WORD_GROUPS),
    script:
        STAGE_SCRIPT


rule metrics_ablation:
    input:
        windows=[f"{WIN}{ABLATION_SUFFIXES[s]}/windows.json" for s in ABLATION_SETS],
        data=_per_set(f"{METRICS_SET}/data/metrics.parquet"),
        models=_per_model("metrics"),
    output:
        **bstage_ablation.STAGE.table_outputs(ABLATION),
        **bstage_ablation.STAGE.file_outputs(
            summary_html=report(
                f"{ABLATION}/summary.html",
                caption="../report/ablation_table.rst",
                category="Co-occurrence ablation",
                subcategory="Table",
            ),
            claims=f"{ABLATION}/claims.parquet",
            claims_csv=f"{ABLATION}/claims.csv",
            claims_json=f"{ABLATION}/claims.json",
            claims_html=report(
                f"{ABLATION}/claims.html",
                caption="../report/ablation_claims.rst",
                category="Co-occurrence ablation",
                subcategory="Criterion",
            ),
            this_run=report(
                f"{ABLATION}/ablation_this_run.tsv",
                caption="../report/ablation_this_run.rst",
                category="Co-occurrence ablation",
                subcategory="Table",
            ),
        ),
    log:
        f"{LOGS}/metrics/ablation.log",
    benchmark:
        f"{BENCH}/metrics/ablation.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bstage_ablation.STAGE, word_groups=ABLATION_WORD_GROUPS, **ABLATION_PARAMS),
    script:
        STAGE_SCRIPT


rule fig_ablation:
    input:
        summary=f"{ABLATION}/summary.parquet",
        data_rings=_per_set(f"{METRICS_SET}/data/ring.parquet"),
        model_groups=_per_model("groups"),
    output:
        **stage_figures(
            bstage_fig_ablation.STAGE,
            FIGS,
            reports={
                "ablation_rings": {
                    "caption": "../report/ablation_rings.rst",
                    "category": "Co-occurrence ablation",
                    "subcategory": "Rings",
                }
            },
        ),
    log:
        f"{LOGS}/figures/ablation_rings.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bstage_fig_ablation.STAGE, group=ABLATION_RING_GROUP, **ABLATION_PARAMS),
    script:
        STAGE_SCRIPT


if ABLATION_GROUPS:
    TARGETS["windows"] += [f"{WIN}{ABLATION_SUFFIXES[s]}/windows.json" for s in ("ablated", "control")]
    TARGETS["train"] += [
        f"{for_set(MODELS_SET, ABLATION_SUFFIXES[s])}/{t}/{MODEL_FILE}"
        for s in ("ablated", "control")
        for t in ABLATION_TAGS
    ]
    TARGETS["metrics"] += [
        f"{ABLATION}/{name}.{ext}" for name in ("summary", "claims") for ext in ("parquet", "csv")
    ] + [f"{ABLATION}/{name}" for name in ("summary.html", "claims.json", "claims.html", "ablation_this_run.tsv")]
    TARGETS["figures"] += ABLATION_FIGURES
