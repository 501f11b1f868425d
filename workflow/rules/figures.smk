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
    wildcard_constraints:
        kind="|".join(FIG_MONTHS),
    params:
        code=code_of("fig_months.py"),
        figures=config["figures"],
    threads: 1
    resources:
        mem_mb=lambda wc: 2000 if wc.kind == "corr" else 1000,
    log:
        f"{FIG_LOGS}/months_{{kind}}.log",
    conda:
        "../../envs/figures.yaml"
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
        main=_fig("structure_sweep_{gram}", "fig_structure_sweep", "Structure sweep", figure="sweep ({gram})",
                  latent="all"),
        other=_others("structure_sweep_{gram}"),
    wildcard_constraints:
        gram="raw|cos",
    params:
        figures={**config["figures"], "snapshot_latents": config["analysis"]["snapshot_latents"]},
        code=code_of("fig_structure.py"),
    threads: 1
    resources:
        mem_mb=1000,
    log:
        f"{FIG_LOGS}/structure_sweep_{{gram}}.log",
    conda:
        "../../envs/figures.yaml"
    script:
        "../scripts/fig_structure.py"


rule fig_structure_snapshot:
    input:
        unpack(_snapshot_groups),
    output:
        main=_fig("structure_snapshot_L{latent}", "fig_structure_snapshot", "Structure sweep",
                  figure="PCA snapshot", latent="{latent}"),
        other=_others("structure_snapshot_L{latent}"),
    params:
        figures=config["figures"],
        code=code_of("fig_structure.py"),
        model=_snapshot_model,
    threads: 1
    resources:
        mem_mb=1000,
    log:
        f"{FIG_LOGS}/structure_snapshot_L{{latent}}.log",
    conda:
        "../../envs/figures.yaml"
    script:
        "../scripts/fig_structure.py"


# ------------------------------------------------------------------------------------------------------- UMAP


rule fig_umap:
    input:
        umap=f"{METRICS}/umap/{MODEL_TAG}.parquet",
        clusters=f"{METRICS}/clusters.parquet",
    output:
        main=_fig("umap_{variant}_L{latent}_wd{wd}_seed{seed}", "fig_umap", "UMAP", figure="UMAP",
                  model="{variant} L{latent} wd{wd} seed{seed}"),
        other=_others("umap_{variant}_L{latent}_wd{wd}_seed{seed}"),
    params:
        figures=config["figures"],
        code=code_of("fig_umap.py"),
    threads: 1
    resources:
        mem_mb=1000,
    log:
        f"{FIG_LOGS}/umap_{{variant}}_L{{latent}}_wd{{wd}}_seed{{seed}}.log",
    conda:
        "../../envs/figures.yaml"
    script:
        "../scripts/fig_umap.py"


rule fig_umap_legend:
    output:
        main=_fig("umap_legend", "fig_umap_legend", "UMAP", figure="legend", model="all"),
        other=_others("umap_legend"),
    params:
        figures=config["figures"],
        code=code_of("fig_umap.py"),
    threads: 1
    resources:
        mem_mb=1000,
    log:
        f"{FIG_LOGS}/umap_legend.log",
    conda:
        "../../envs/figures.yaml"
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
    wildcard_constraints:
        target="|".join(re.escape(t) for t in FIG_TARGETS) or "(?!)",
    params:
        figures=config["figures"],
        code=code_of("fig_mechanism.py"),
    threads: 1
    resources:
        mem_mb=1000,
    log:
        f"{FIG_LOGS}/mechanism_{{target}}.log",
    conda:
        "../../envs/figures.yaml"
    script:
        "../scripts/fig_mechanism.py"


rule fig_mechanism_christmas:
    input:
        towers=FIG_MECH_TABLES["towers"],
        metrics=FIG_MECH_TABLES["metrics"],
    output:
        main=_fig("mechanism_christmas_months", "fig_mechanism_christmas", "Mechanism",
                  figure="Christmas vs months", target="Christmas"),
        other=_others("mechanism_christmas_months"),
    params:
        figures=config["figures"],
        code=code_of("fig_mechanism.py"),
    threads: 1
    resources:
        mem_mb=1000,
    log:
        f"{FIG_LOGS}/mechanism_christmas_months.log",
    conda:
        "../../envs/figures.yaml"
    script:
        "../scripts/fig_mechanism.py"


TARGETS["figures"] += [p for kind in FIG_MONTHS for p in _fig_paths(f"months_{kind}")]
TARGETS["figures"] += [p for g in ("raw", "cos") for p in _fig_paths(f"structure_sweep_{g}")]
TARGETS["figures"] += [p for L in FIG_SNAP_LATENTS for p in _fig_paths(f"structure_snapshot_L{L}")]
TARGETS["figures"] += [p for s in FIG_UMAP for p in _fig_paths(f"umap_{s.variant}_L{s.latent}_wd{s.wd}_seed{s.seed}")]
TARGETS["figures"] += _fig_paths("umap_legend")
TARGETS["figures"] += [p for t in FIG_TARGETS for p in _fig_paths(f"mechanism_{t}")]
TARGETS["figures"] += _fig_paths("mechanism_christmas_months")
