# References: real language models and word vectors beside the BOWS models (docs/references.md). Each reference
# represents the analysed words (word groups + the references.top_words most frequent words); every object (each
# reference layer, the data's PPMI/phi rows, every grid model, the controls) gets the same ring and cluster measures,
# and every object is aligned with every reference layer (RSA, CKA, Procrustes, partial RSA given the PPMI geometry).
# Library: workflow/bows/references (representations) and bows/metrics/{object_geometry,alignment,reference_criteria}.

import bows.devices as bdev
import bows.references.sources as bref_sources
import bows.stages.references.alignment as bstage_ref_align
import bows.stages.references.criteria as bstage_ref_crit
import bows.stages.references.data as bstage_ref_data
import bows.stages.references.figures as bstage_fig_refs
import bows.stages.references.geometry as bstage_ref_geom
import bows.stages.references.lm as bstage_ref_lm
import bows.stages.references.vectors as bstage_ref_vec

REFS_CFG = config["references"]
try:
    bref_sources.check_config(REFS_CFG)
except BowsError as err:
    raise WorkflowError(f"bows: {err}") from None

REF_USE = list(REFS_CFG["use"]) if REFS_CFG["enabled"] else []
REFS = f"{RES}/references/V{V}"  # one representation per reference over this vocabulary's analysed words
REF_METRICS = f"{METRICS}/references"
REF_FILES = [f"{REFS}/{ref}/representations.npz" for ref in REF_USE]
REF_MODELS = [model_path(s) for s in GRID]  # in GRID order: the stages rebuild the grid from train.grid


rule references_lm:
    input:
        vocab=f"{VOC}/vocab.tsv",
        corpus=f"{RES}/corpus/train.parquet",
        docs=f"{VOC}/docs/train.json",
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
    output:
        **bstage_ref_lm.STAGE.table_outputs(f"{REFS}/{{reference}}"),
        representations=f"{REFS}/{{reference}}/representations.npz",
    log:
        f"{LOGS}/references/{{reference}}.log",
    benchmark:
        f"{BENCH}/references/{{reference}}.tsv"
    wildcard_constraints:
        reference="|".join(bref_sources.LM_SOURCES),
    conda:
        "../../envs/lm.yaml"
    threads: REFS_CFG["threads"]
    resources:
        **bdev.job_resources(REFS_CFG["device"]),
        mem_mb=2500,
    params:
        **stage_params(bstage_ref_lm.STAGE),
    script:
        STAGE_SCRIPT


rule references_vectors:
    input:
        vocab=f"{VOC}/vocab.tsv",
    output:
        **bstage_ref_vec.STAGE.table_outputs(f"{REFS}/{{reference}}"),
        representations=f"{REFS}/{{reference}}/representations.npz",
    log:
        f"{LOGS}/references/{{reference}}.log",
    benchmark:
        f"{BENCH}/references/{{reference}}.tsv"
    wildcard_constraints:
        reference="|".join(bref_sources.VECTOR_SOURCES),
    conda:
        "../../envs/lm.yaml"
    threads: 1
    resources:
        mem_mb=1500,
    params:
        **stage_params(bstage_ref_vec.STAGE),
    script:
        STAGE_SCRIPT


rule references_data:
    input:
        vocab=f"{VOC}/vocab.tsv",
        docs=f"{VOC}/docs/train.json",
        indptr=f"{VOC}/docs/train.indptr.npy",
        indices=f"{VOC}/docs/train.indices.npy",
        windows=f"{WIN}/train_windows.npy",
    output:
        rows=f"{REF_METRICS}/data_rows.npz",
    log:
        f"{LOGS}/references/data.log",
    benchmark:
        f"{BENCH}/references/data.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bstage_ref_data.STAGE),
    script:
        STAGE_SCRIPT


rule references_geometry:
    input:
        references=REF_FILES,
        data=f"{REF_METRICS}/data_rows.npz",
        models=REF_MODELS,
        vocab=f"{VOC}/vocab.tsv",
        cooc=f"{METRICS}/data/cooc.parquet",
    output:
        **bstage_ref_geom.STAGE.table_outputs(REF_METRICS),
    log:
        f"{LOGS}/references/geometry.log",
    benchmark:
        f"{BENCH}/references/geometry.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bstage_ref_geom.STAGE),
    script:
        STAGE_SCRIPT


rule references_alignment:
    input:
        references=REF_FILES,
        data=f"{REF_METRICS}/data_rows.npz",
        models=REF_MODELS,
        vocab=f"{VOC}/vocab.tsv",
    output:
        **bstage_ref_align.STAGE.table_outputs(REF_METRICS),
    log:
        f"{LOGS}/references/alignment.log",
    benchmark:
        f"{BENCH}/references/alignment.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bstage_ref_align.STAGE),
    script:
        STAGE_SCRIPT


rule references_criteria:
    input:
        geometry=f"{REF_METRICS}/geometry.parquet",
        alignment=f"{REF_METRICS}/alignment.parquet",
    output:
        criteria=f"{REF_METRICS}/criteria.json",
        table=f"{REF_METRICS}/criteria.parquet",
        csv=f"{REF_METRICS}/criteria.csv",
        criteria_html=report(
            f"{REF_METRICS}/criteria.html",
            caption="../report/references_claims.rst",
            category="References",
            labels={"figure": "claims"},
        ),
        this_run=report(
            f"{REF_METRICS}/references_this_run.tsv",
            caption="../report/references_this_run.rst",
            category="References",
            labels={"figure": "this run's numbers (table)"},
        ),
    log:
        f"{LOGS}/references/criteria.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bstage_ref_crit.STAGE),
    script:
        STAGE_SCRIPT


rule fig_references:
    input:
        coords=f"{REF_METRICS}/coords.parquet",
        geometry=f"{REF_METRICS}/geometry.parquet",
        alignment=f"{REF_METRICS}/alignment.parquet",
    output:
        **{
            name: (
                report(path, caption=f"../report/fig_{name}.rst", category="References", labels={"figure": name})
                if name in bstage_fig_refs.STAGE.figures
                else path
            )
            for name, path in stage_figures(bstage_fig_refs.STAGE, FIGS).items()
        },
    log:
        f"{LOGS}/figures/references.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bstage_fig_refs.STAGE),
    script:
        STAGE_SCRIPT


TARGETS["references"] = (
    [
        *REF_FILES,
        f"{REF_METRICS}/criteria.json",
        f"{REF_METRICS}/criteria.html",
        *bstage_ref_geom.STAGE.table_outputs(REF_METRICS).values(),
        *bstage_ref_align.STAGE.table_outputs(REF_METRICS).values(),
        *stage_figures(bstage_fig_refs.STAGE, FIGS).values(),
    ]
    if REF_USE
    else []
)


rule references:
    input:
        TARGETS["references"],
