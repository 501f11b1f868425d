# The paper's figures (months, structure sweep, UMAP, mechanism), drawn from the metric tables only, and our figures
# over the grid, the criteria dashboard and the metric tables of the report. Every figure rule runs a stage module of
# workflow/bows/figures/stages; its params are the `figures` section and the hash of the plotting code it runs (the
# structure sweep also marks analysis.snapshot_latents), never another config section: changing a plot setting or
# plotting code reruns figure jobs only, never training or metrics. The main format (PNG when configured) goes into
# the report.

import re
from dataclasses import asdict

import bows.figures.stages.christmas as bfig_christmas
import bows.figures.stages.criteria as bfig_criteria
import bows.figures.stages.mechanism as bfig_mechanism
import bows.figures.stages.months as bfig_months
import bows.figures.stages.report_tables as bfig_tables
import bows.figures.stages.structure_snapshot as bfig_snapshot
import bows.figures.stages.structure_sweep as bfig_sweep
import bows.figures.stages.sweeps as bfig_sweeps
import bows.figures.stages.umap as bfig_umap
import bows.figures.stages.umap_legend as bfig_umap_legend

FIG_LOGS = f"{LOGS}/figures"
FIG_TARGETS = list(config["analysis"]["mechanism_targets"])
FIG_UMAP = [bcfg.model_ref(m) for m in config["analysis"]["models"]["umap"]]
UMAP_SUFFIX = "_{variant}_L{latent}_wd{wd}_seed{seed}"


def paper_figure(caption, subcategory, **labels):
    """report() keywords of a figure in the report under "Paper figures"."""
    return dict(caption=f"../report/{caption}.rst", category="Paper figures", subcategory=subcategory, labels=labels)


# ----------------------------------------------------------------------------------------------------- months


# kind → the metric tables it draws and its label in the report (one rule, one caption with a section per kind)
FIG_MONTHS = {
    "corr": ({"cooc": f"{METRICS}/data/cooc.parquet"}, "correlation matrix (data)"),
    "ring_data": ({"ring": f"{METRICS}/data/ring.parquet"}, "PCA ring (data)"),
    "ring_weights": (
        {"ring": f"{METRICS}/months/ring.parquet", "metrics": f"{METRICS}/months/metrics.parquet"},
        "PCA ring (weights)",
    ),
    "seasonal": (
        {"seasonal": f"{METRICS}/months/seasonal.parquet", "metrics": f"{METRICS}/months/metrics.parquet"},
        "months and seasonal words",
    ),
}


rule fig_months:
    input:
        unpack(lambda wc: FIG_MONTHS[wc.kind][0]),
    output:
        **stage_figures(
            bfig_months.STAGE,
            FIGS,
            suffix="_{kind}",
            reports={
                "months": dict(
                    caption="../report/fig_months.rst",
                    category="Paper figures",
                    subcategory="Months",
                    labels=lambda wc: {"figure": FIG_MONTHS[wc.kind][1]},
                )
            },
        ),
    log:
        f"{FIG_LOGS}/months_{{kind}}.log",
    wildcard_constraints:
        kind="|".join(FIG_MONTHS),
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc: 2000 if wc.kind == "corr" else 1000,
    params:
        **stage_params(bfig_months.STAGE),
    script:
        STAGE_SCRIPT


# --------------------------------------------------------------------------------------------- structure sweep


# grid models of the structure sweep (analysis.models.sweep's weight decay and variant), optionally at latent L
_sweep_specs = lambda latent=None: bcfg.sweep_models(config, latent)
# a snapshot for every latent size of the sweep, and for each analysis.snapshot_latents (absent ones say why)
FIG_SNAP_LATENTS = sorted({s.latent for s in _sweep_specs()} | set(config["analysis"]["snapshot_latents"]))
# the sweep's lowest-seed model at L (None when the grid has no such model), its fields and its groups table
_snapshot_model = lambda wc: next(iter(_sweep_specs(wc.latent)), None)
_snapshot_fields = lambda wc: asdict(_snapshot_model(wc)) if _snapshot_model(wc) else None
_snapshot_groups = lambda wc: (
    {"groups": f"{METRICS}/models/{_snapshot_model(wc).tag}/groups.parquet"} if _snapshot_model(wc) else {}
)


rule fig_structure_sweep:
    input:
        sweep=f"{METRICS}/sweep.parquet",
        summary=f"{METRICS}/sweep_summary.parquet",
    output:
        **stage_figures(
            bfig_sweep.STAGE,
            FIGS,
            suffix="_{gram}",
            reports={
                "structure_sweep": paper_figure(
                    "fig_structure_sweep", "Structure sweep", figure="sweep ({gram})", latent="all"
                )
            },
        ),
    log:
        f"{FIG_LOGS}/structure_sweep_{{gram}}.log",
    wildcard_constraints:
        gram="|".join(bfig_sweep.METRICS),
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bfig_sweep.STAGE),
    script:
        STAGE_SCRIPT


rule fig_structure_snapshot:
    input:
        unpack(_snapshot_groups),
    output:
        **stage_figures(
            bfig_snapshot.STAGE,
            FIGS,
            suffix="_L{latent}",
            reports={
                "structure_snapshot": paper_figure(
                    "fig_structure_snapshot", "Structure sweep", figure="PCA snapshot", latent="{latent}"
                )
            },
        ),
    log:
        f"{FIG_LOGS}/structure_snapshot_L{{latent}}.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bfig_snapshot.STAGE, model=_snapshot_fields),
    script:
        STAGE_SCRIPT


# ------------------------------------------------------------------------------------------------------- UMAP


rule fig_umap:
    input:
        umap=f"{METRICS}/umap/{MODEL_TAG}/layout.parquet",
        clusters=f"{METRICS}/clusters.parquet",
    output:
        **stage_figures(
            bfig_umap.STAGE,
            FIGS,
            suffix=UMAP_SUFFIX,
            reports={
                "umap": paper_figure("fig_umap", "UMAP", figure="UMAP", model="{variant} L{latent} wd{wd} seed{seed}")
            },
        ),
    log:
        f"{FIG_LOGS}/umap{UMAP_SUFFIX}.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bfig_umap.STAGE),
    script:
        STAGE_SCRIPT


rule fig_umap_legend:
    output:
        **stage_figures(
            bfig_umap_legend.STAGE,
            FIGS,
            reports={"umap_legend": paper_figure("fig_umap_legend", "UMAP", figure="legend", model="all")},
        ),
    log:
        f"{FIG_LOGS}/umap_legend.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bfig_umap_legend.STAGE),
    script:
        STAGE_SCRIPT


# -------------------------------------------------------------------------------------------------- mechanism

FIG_MECH_TABLES = {name: f"{METRICS}/mechanism/{name}.parquet" for name in bfig_mechanism.TABLES}


rule fig_mechanism:
    input:
        **FIG_MECH_TABLES,
    output:
        **stage_figures(
            bfig_mechanism.STAGE,
            FIGS,
            suffix="_{target}",
            reports={"mechanism": paper_figure("fig_mechanism", "Mechanism", figure="mechanism", target="{target}")},
        ),
    log:
        f"{FIG_LOGS}/mechanism_{{target}}.log",
    wildcard_constraints:
        target="|".join(re.escape(t) for t in FIG_TARGETS) or "(?!)",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bfig_mechanism.STAGE),
    script:
        STAGE_SCRIPT


rule fig_mechanism_christmas:
    input:
        towers=FIG_MECH_TABLES["towers"],
        metrics=FIG_MECH_TABLES["metrics"],
    output:
        **stage_figures(
            bfig_christmas.STAGE,
            FIGS,
            reports={
                "mechanism_christmas_months": paper_figure(
                    "fig_mechanism_christmas",
                    "Mechanism",
                    figure="Christmas vs months",
                    target=bfig_christmas.TARGET,
                )
            },
        ),
    log:
        f"{FIG_LOGS}/mechanism_christmas_months.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bfig_christmas.STAGE),
    script:
        STAGE_SCRIPT


TARGETS["figures"] += [p for kind in FIG_MONTHS for p in figure_paths(bfig_months.STAGE, FIGS, suffix=f"_{kind}")]
TARGETS["figures"] += [
    p for gram in bfig_sweep.METRICS for p in figure_paths(bfig_sweep.STAGE, FIGS, suffix=f"_{gram}")
]
TARGETS["figures"] += [p for L in FIG_SNAP_LATENTS for p in figure_paths(bfig_snapshot.STAGE, FIGS, suffix=f"_L{L}")]
TARGETS["figures"] += [
    p for s in FIG_UMAP for p in figure_paths(bfig_umap.STAGE, FIGS, suffix=UMAP_SUFFIX.format(**asdict(s), wd=s.wd))
]
TARGETS["figures"] += figure_paths(bfig_umap_legend.STAGE, FIGS)
TARGETS["figures"] += [p for t in FIG_TARGETS for p in figure_paths(bfig_mechanism.STAGE, FIGS, suffix=f"_{t}")]
TARGETS["figures"] += figure_paths(bfig_christmas.STAGE, FIGS)


# ------------------------------------------------------------------------- our figures, the criteria and tables
# Our figures over the grid (loss scaling, feature dimensionality, circularity, cluster scores, principal subspace),
# the reproduction criteria dashboard and the metric tables shown in `snakemake --report results/report.html`.


def sweep_figure(name, label):
    """report() keywords of one sweep figure, in the report under "Sweeps"."""
    return dict(
        caption=f"../report/fig_sweeps_{name}.rst",
        category="Sweeps",
        subcategory="Our figures",
        labels={"figure": label},
    )


rule fig_sweeps:
    input:
        losses=f"{METRICS}/losses.parquet",
        loss_fit=f"{METRICS}/loss_fit.parquet",
        metrics_all=f"{METRICS}/metrics_all.parquet",
        clusters=f"{METRICS}/clusters.parquet",
        subspace=f"{METRICS}/subspace.parquet",
        words=[f"{METRICS}/models/{s.tag}/words.parquet" for s in GRID],
    output:
        **stage_figures(
            bfig_sweeps.STAGE,
            FIGS,
            prefix="sweeps_",
            reports={
                "loss": sweep_figure("loss", "loss vs latent size"),
                "dimensionality": sweep_figure("dimensionality", "feature dimensionality"),
                "circularity": sweep_figure("circularity", "circularity"),
                "clusters": sweep_figure("clusters", "cluster scores"),
                "subspace": sweep_figure("subspace", "principal subspace"),
            },
        ),
    log:
        f"{FIG_LOGS}/fig_sweeps.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bfig_sweeps.STAGE, models=[asdict(s) for s in GRID]),  # the models of the words tables
    script:
        STAGE_SCRIPT


rule fig_criteria:
    input:
        criteria=f"{METRICS}/criteria.json",
    output:
        **stage_figures(
            bfig_criteria.STAGE,
            FIGS,
            reports={
                "criteria_dashboard": dict(
                    caption="../report/claims.rst",
                    category="Reproduction criteria",
                    subcategory="Dashboard",
                    labels={"figure": "criteria dashboard"},
                )
            },
        ),
        **bfig_criteria.STAGE.file_outputs(
            html=report(
                f"{FIGS}/tables/criteria.html",
                caption="../report/claims.rst",
                category="Reproduction criteria",
                subcategory="Table",
                labels={"table": "criteria"},
            )
        ),
    log:
        f"{FIG_LOGS}/fig_criteria.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bfig_criteria.STAGE),
    script:
        STAGE_SCRIPT


rule fig_tables:
    input:
        metrics_all=f"{METRICS}/metrics_all.parquet",
        loss_fit=f"{METRICS}/loss_fit.parquet",
        clusters=f"{METRICS}/clusters.parquet",
        sweep_summary=f"{METRICS}/sweep_summary.parquet",
        subspace=f"{METRICS}/subspace.parquet",
    output:
        **bfig_tables.STAGE.file_outputs(
            **{
                f"{name}_{fmt}": report(
                    f"{FIGS}/tables/{name}.{fmt}",
                    caption="../report/fig_sweeps_table.rst",
                    category="Tables",
                    subcategory="Metrics",
                    labels={"table": name if fmt == "html" else f"{name} (CSV)"},
                )
                for name, fmt in bfig_tables.OUTPUTS
            }
        ),
    log:
        f"{FIG_LOGS}/fig_tables.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bfig_tables.STAGE),
    script:
        STAGE_SCRIPT


TARGETS["figures"] += figure_paths(bfig_sweeps.STAGE, FIGS, prefix="sweeps_")
TARGETS["figures"] += figure_paths(bfig_criteria.STAGE, FIGS)
TARGETS["figures"] += [f"{FIGS}/tables/criteria.html"]
TARGETS["report"] += [f"{FIGS}/tables/{name}.{fmt}" for name, fmt in bfig_tables.OUTPUTS]
