# The report's front page: the run's verdict (claim counts, the results this scale shows, what it cannot show, the
# explorers, the grid), written from the tables the other rules wrote. workflow/report/workflow.rst shows it first.
# Library: workflow/bows/front_page.py; docs/figures.md.

import bows.front_page as bfront

# every set of claims the run evaluates: its name on the front page → its claims JSON (bows.claims)
FRONT_CLAIMS = {"Reproduction criteria": f"{METRICS}/criteria.json"}
if SYN_CFG["enabled"]:
    FRONT_CLAIMS["Synthetic claims"] = f"{SYN}/claims.json"
if SAE_CFG["enabled"]:
    FRONT_CLAIMS["SAE claims"] = f"{SAE_DIR}/claims.json"
if ABLATION_GROUPS:
    FRONT_CLAIMS["Co-occurrence ablation"] = f"{ABLATION}/claims.json"
# the Gram grids of the ring structures, one of which the front page shows beside the synthetic claims
FRONT_SYNTHETIC = (
    {
        f"{v}/{s}": main_figure(bsyn_gram_grid.STAGE, f"{SYN}/figures", "gram_grid", prefix=f"{v}_{s}_")
        for v, s in SYN_RUNS
        if s == "circular"
    }
    if SYN_CFG["enabled"]
    else {}
)


rule report_front_page:
    input:
        claims=list(FRONT_CLAIMS.values()),
        dashboard=main_figure(bfig_criteria.STAGE, FIGS, "criteria_dashboard"),
        subspace=f"{METRICS}/subspace.parquet",
        losses=f"{METRICS}/losses.parquet",
        subspace_figure=main_figure(bfig_sweeps.STAGE, FIGS, "subspace", prefix="sweeps_"),
        synthetic_figures=list(FRONT_SYNTHETIC.values()),
        explorers=lambda wc: list(EXPLORERS.values()),  # read once every rule file has added its explorers
    output:
        **bfront.STAGE.file_outputs(
            html=report(
                f"{RES}/report/front_page.html",
                caption="../report/front_page.rst",
                category="Verdict",
                labels={"page": "the run's verdict (the front page)"},
            )
        ),
    log:
        f"{LOGS}/report/front_page.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(
            bfront.STAGE,
            claim_sets=list(FRONT_CLAIMS),
            synthetic_keys=list(FRONT_SYNTHETIC),
            explorer_labels=lambda wc: list(EXPLORERS),
            switched_off=[list(x) for x in bfront.switched_off(config)],
        ),
    script:
        STAGE_SCRIPT


TARGETS["report"] += [f"{RES}/report/front_page.html"]
