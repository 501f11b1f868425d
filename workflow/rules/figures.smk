# The paper's figures (months, structure sweep, UMAP, mechanism), drawn from the metric tables only.
# Library: workflow/bows/figures/{months,structure,umap,mechanism}.py. Figure jobs take as params config["figures"]
# and a hash of the plotting code they run, never another config section: changing a plot setting or plotting code
# reruns figure jobs only, never training or metrics. The main format (PNG when configured) goes into the report.

import re

FIG_FORMATS = config["figures"]["formats"]
FIG_MAIN = main_format(FIG_FORMATS)
FIG_OTHER = [f for f in FIG_FORMATS if f != FIG_MAIN]
FIG_LOGS = f"{LOGS}/figures"
FIG_TARGETS = list(config["analysis"]["mechanism_targets"])
FIG_UMAP = [bcfg.model_ref(m) for m in config["analysis"]["models"]["umap"]]


# the main-format output of a figure, in the report under "Paper figures"
_fig = lambda stem, caption, subcategory, **labels: report(
    f"{FIGS}/{stem}.{FIG_MAIN}",
    caption=f"../report/{caption}.rst",
    category="Paper figures",
    subcategory=subcategory,
    labels=labels,
)
_others = lambda stem: [f"{FIGS}/{stem}.{fmt}" for fmt in FIG_OTHER]  # other formats (PDF): plain outputs
_fig_paths = lambda stem: [f"{FIGS}/{stem}.{fmt}" for fmt in FIG_FORMATS]


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
        main=report(
            f"{FIGS}/months_{{kind}}.{FIG_MAIN}",
            caption="../report/fig_months.rst",
            category="Paper figures",
            subcategory="Months",
            labels=lambda wc: {"figure": FIG_MONTHS[wc.kind][1]},
        ),
        other=[f"{FIGS}/months_{{kind}}.{fmt}" for fmt in FIG_OTHER],
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
        code=code_of("fig_months.py"),
        figures=config["figures"],
    script:
        "../scripts/fig_months.py"


# --------------------------------------------------------------------------------------------- structure sweep


# grid models of the structure sweep (analysis.models.sweep's weight decay and variant), optionally at latent L
_sweep_specs = lambda latent=None: bcfg.sweep_models(config, latent)
# a snapshot for every latent size of the sweep, and for each analysis.snapshot_latents (absent ones say why)
FIG_SNAP_LATENTS = sorted({s.latent for s in _sweep_specs()} | set(config["analysis"]["snapshot_latents"]))
# the groups table of the sweep's lowest-seed model at L; nothing when the grid has no such model
_snapshot_groups = lambda wc: (
    {"groups": f"{METRICS}/models/{_sweep_specs(wc.latent)[0].tag}/groups.parquet"} if _sweep_specs(wc.latent) else {}
)
_snapshot_model = lambda wc: _sweep_specs(wc.latent)[0].tag if _sweep_specs(wc.latent) else ""


rule fig_structure_sweep:
    input:
        sweep=f"{METRICS}/sweep.parquet",
        summary=f"{METRICS}/sweep_summary.parquet",
    output:
        main=_fig(
            "structure_sweep_{gram}", "fig_structure_sweep", "Structure sweep", figure="sweep ({gram})", latent="all"
        ),
        other=_others("structure_sweep_{gram}"),
    log:
        f"{FIG_LOGS}/structure_sweep_{{gram}}.log",
    wildcard_constraints:
        gram="raw|cos",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        figures={**config["figures"], "snapshot_latents": config["analysis"]["snapshot_latents"]},
        code=code_of("fig_structure.py"),
    script:
        "../scripts/fig_structure.py"


rule fig_structure_snapshot:
    input:
        unpack(_snapshot_groups),
    output:
        main=_fig(
            "structure_snapshot_L{latent}",
            "fig_structure_snapshot",
            "Structure sweep",
            figure="PCA snapshot",
            latent="{latent}",
        ),
        other=_others("structure_snapshot_L{latent}"),
    log:
        f"{FIG_LOGS}/structure_snapshot_L{{latent}}.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        figures=config["figures"],
        code=code_of("fig_structure.py"),
        model=_snapshot_model,
    script:
        "../scripts/fig_structure.py"


# ------------------------------------------------------------------------------------------------------- UMAP


rule fig_umap:
    input:
        umap=f"{METRICS}/umap/{MODEL_TAG}/layout.parquet",
        clusters=f"{METRICS}/clusters.parquet",
    output:
        main=_fig(
            "umap_{variant}_L{latent}_wd{wd}_seed{seed}",
            "fig_umap",
            "UMAP",
            figure="UMAP",
            model="{variant} L{latent} wd{wd} seed{seed}",
        ),
        other=_others("umap_{variant}_L{latent}_wd{wd}_seed{seed}"),
    log:
        f"{FIG_LOGS}/umap_{{variant}}_L{{latent}}_wd{{wd}}_seed{{seed}}.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        figures=config["figures"],
        code=code_of("fig_umap.py"),
    script:
        "../scripts/fig_umap.py"


rule fig_umap_legend:
    output:
        main=_fig("umap_legend", "fig_umap_legend", "UMAP", figure="legend", model="all"),
        other=_others("umap_legend"),
    log:
        f"{FIG_LOGS}/umap_legend.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        figures=config["figures"],
        code=code_of("fig_umap.py"),
    script:
        "../scripts/fig_umap.py"


# -------------------------------------------------------------------------------------------------- mechanism

FIG_MECH_TABLES = {n: f"{METRICS}/mechanism/{n}.parquet" for n in ("r2", "density", "towers", "metrics")}


rule fig_mechanism:
    input:
        **FIG_MECH_TABLES,
    output:
        main=_fig("mechanism_{target}", "fig_mechanism", "Mechanism", figure="mechanism", target="{target}"),
        other=_others("mechanism_{target}"),
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
        figures=config["figures"],
        code=code_of("fig_mechanism.py"),
    script:
        "../scripts/fig_mechanism.py"


rule fig_mechanism_christmas:
    input:
        towers=FIG_MECH_TABLES["towers"],
        metrics=FIG_MECH_TABLES["metrics"],
    output:
        main=_fig(
            "mechanism_christmas_months",
            "fig_mechanism_christmas",
            "Mechanism",
            figure="Christmas vs months",
            target="Christmas",
        ),
        other=_others("mechanism_christmas_months"),
    log:
        f"{FIG_LOGS}/mechanism_christmas_months.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        figures=config["figures"],
        code=code_of("fig_mechanism.py"),
    script:
        "../scripts/fig_mechanism.py"


TARGETS["figures"] += [p for kind in FIG_MONTHS for p in _fig_paths(f"months_{kind}")]
TARGETS["figures"] += [p for g in ("raw", "cos") for p in _fig_paths(f"structure_sweep_{g}")]
TARGETS["figures"] += [p for L in FIG_SNAP_LATENTS for p in _fig_paths(f"structure_snapshot_L{L}")]
TARGETS["figures"] += [p for s in FIG_UMAP for p in _fig_paths(f"umap_{s.variant}_L{s.latent}_wd{s.wd}_seed{s.seed}")]
TARGETS["figures"] += _fig_paths("umap_legend")
TARGETS["figures"] += [p for t in FIG_TARGETS for p in _fig_paths(f"mechanism_{t}")]
TARGETS["figures"] += _fig_paths("mechanism_christmas_months")


# ------------------------------------------------------------------------- our figures, the criteria and tables
# Our figures over the grid (loss scaling, feature dimensionality, circularity, cluster scores, principal subspace),
# the reproduction criteria dashboard and the metric tables shown in `snakemake --report results/report.html`.

REP_FORMATS = config["figures"]["formats"]
REP_MAIN = main_format(REP_FORMATS)
REP_OTHER = [f for f in REP_FORMATS if f != REP_MAIN]
REP_SWEEPS = ("loss", "dimensionality", "circularity", "clusters", "subspace")
REP_TABLES = ("model_metrics", "loss_fit", "clusters", "sweep_summary", "subspace")
REP_LOGS = f"{LOGS}/figures"


# the main-format output of one sweep figure, in the report under "Sweeps"
_report_sweep_fig = lambda name, label: report(
    f"{FIGS}/sweeps_{name}.{REP_MAIN}",
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
        loss=_report_sweep_fig("loss", "loss vs latent size"),
        dimensionality=_report_sweep_fig("dimensionality", "feature dimensionality"),
        circularity=_report_sweep_fig("circularity", "circularity"),
        clusters=_report_sweep_fig("clusters", "cluster scores"),
        subspace=_report_sweep_fig("subspace", "principal subspace"),
        other=[f"{FIGS}/sweeps_{n}.{fmt}" for n in REP_SWEEPS for fmt in REP_OTHER],
    log:
        f"{REP_LOGS}/fig_sweeps.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        figures=config["figures"],
        code=code_of("fig_sweeps.py"),
    script:
        "../scripts/fig_sweeps.py"


rule fig_criteria:
    input:
        criteria=f"{METRICS}/criteria.json",
    output:
        main=report(
            f"{FIGS}/criteria_dashboard.{REP_MAIN}",
            caption="../report/fig_criteria.rst",
            category="Reproduction criteria",
            subcategory="Dashboard",
            labels={"figure": "criteria dashboard"},
        ),
        other=[f"{FIGS}/criteria_dashboard.{fmt}" for fmt in REP_OTHER],
        csv=report(
            f"{FIGS}/tables/criteria.csv",
            caption="../report/fig_criteria_table.rst",
            category="Tables",
            subcategory="Reproduction criteria",
            labels={"table": "criteria (CSV)"},
        ),
        html=report(
            f"{FIGS}/tables/criteria.html",
            caption="../report/fig_criteria_table.rst",
            category="Tables",
            subcategory="Reproduction criteria",
            labels={"table": "criteria"},
        ),
    log:
        f"{REP_LOGS}/fig_criteria.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        figures=config["figures"],
        code=code_of("fig_criteria.py"),
    script:
        "../scripts/fig_criteria.py"


rule fig_tables:
    input:
        metrics_all=f"{METRICS}/metrics_all.parquet",
        loss_fit=f"{METRICS}/loss_fit.parquet",
        clusters=f"{METRICS}/clusters.parquet",
        sweep_summary=f"{METRICS}/sweep_summary.parquet",
        subspace=f"{METRICS}/subspace.parquet",
    output:
        **{
            f"{name}_{ext}": report(
                f"{FIGS}/tables/{name}.{ext}",
                caption="../report/fig_sweeps_table.rst",
                category="Tables",
                subcategory="Metrics",
                labels={"table": name if ext == "html" else f"{name} (CSV)"},
            )
            for name in REP_TABLES
            for ext in ("html", "csv")
        },
    log:
        f"{REP_LOGS}/fig_tables.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        code=code_of("fig_tables.py"),
    script:
        "../scripts/fig_tables.py"


TARGETS["figures"] += [f"{FIGS}/sweeps_{n}.{fmt}" for n in REP_SWEEPS for fmt in REP_FORMATS]
TARGETS["figures"] += [f"{FIGS}/criteria_dashboard.{fmt}" for fmt in REP_FORMATS]
TARGETS["figures"] += [f"{FIGS}/tables/criteria.{ext}" for ext in ("csv", "html")]
TARGETS["report"] += [f"{FIGS}/tables/{n}.{ext}" for n in REP_TABLES for ext in ("html", "csv")]
