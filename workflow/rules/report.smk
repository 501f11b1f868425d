# Our figures over the grid (loss scaling, feature dimensionality, circularity, cluster scores), the reproduction
# criteria dashboard and the metric tables shown in `snakemake --report results/report.html`.
# Figure jobs read metric tables only. Their params are config["figures"] plus a hash of their plotting code (theme,
# the figure's modules, its script), so a plot setting or plotting-code change reruns figure jobs, nothing upstream.

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
    params:
        figures=config["figures"],
        code=code_of("fig_sweeps.py"),
    threads: 1
    resources:
        mem_mb=2000,
    log:
        f"{REP_LOGS}/fig_sweeps.log",
    conda:
        "../../envs/figures.yaml"
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
    params:
        figures=config["figures"],
        code=code_of("fig_criteria.py"),
    threads: 1
    resources:
        mem_mb=1000,
    log:
        f"{REP_LOGS}/fig_criteria.log",
    conda:
        "../../envs/figures.yaml"
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
    params:
        code=code_of("fig_tables.py"),
    threads: 1
    resources:
        mem_mb=2000,
    log:
        f"{REP_LOGS}/fig_tables.log",
    conda:
        "../../envs/figures.yaml"
    script:
        "../scripts/fig_tables.py"


TARGETS["figures"] += [f"{FIGS}/sweeps_{n}.{fmt}" for n in REP_SWEEPS for fmt in REP_FORMATS]
TARGETS["figures"] += [f"{FIGS}/criteria_dashboard.{fmt}" for fmt in REP_FORMATS]
TARGETS["figures"] += [f"{FIGS}/tables/criteria.{ext}" for ext in ("csv", "html")]
TARGETS["report"] += [f"{FIGS}/tables/{n}.{ext}" for n in REP_TABLES for ext in ("html", "csv")]
