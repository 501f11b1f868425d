# Value-coding features (paper §1.2, Table 1): the US city map (the official experiment) and modular addition (a
# re-design: the paper gives numbers but no code). Each task trains a small embedding + MLP, finds its value space
# (a ridge probe for (lat, lon); the key Fourier frequencies), and evaluates the network with that space kept or
# removed. Independent of the corpus: everything lands under results/value_coding/.
# Stages: workflow/bows/value_coding/stages (the tasks, Table 1), workflow/bows/figures/stages (figures).

import bows.figures.stages.value_coding as bvc_figures
import bows.value_coding.stages.city as bvc_city
import bows.value_coding.stages.modular as bvc_modular
import bows.value_coding.stages.table as bvc_table

VC = "results/value_coding"
VC_CFG = config["value_coding"]


rule value_coding_city:
    output:
        **bvc_city.STAGE.table_outputs(VC),
        **bvc_city.STAGE.file_outputs(json=f"{VC}/city_map.json"),
    log:
        f"{VC}/logs/value_coding_city.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=3000,
    params:
        **stage_params(bvc_city.STAGE),
    script:
        STAGE_SCRIPT


rule value_coding_modular:
    output:
        **bvc_modular.STAGE.table_outputs(VC),
        **bvc_modular.STAGE.file_outputs(json=f"{VC}/modular_addition.json"),
    log:
        f"{VC}/logs/value_coding_modular.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **stage_params(bvc_modular.STAGE),
    script:
        STAGE_SCRIPT


rule value_coding_table:
    input:
        city=f"{VC}/city_map.json",
        modular=f"{VC}/modular_addition.json",
    output:
        **bvc_table.STAGE.table_outputs(VC),
        **bvc_table.STAGE.file_outputs(
            html=report(
                f"{VC}/table1.html",
                caption="../report/value_coding_table.rst",
                category="Value coding",
                subcategory="Table 1",
                labels={"table": "Table 1"},
            )
        ),
    log:
        f"{VC}/logs/value_coding_table.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        **stage_params(bvc_table.STAGE),
    script:
        STAGE_SCRIPT


rule fig_value_coding:
    input:
        city=f"{VC}/city_map.json",
        cities=f"{VC}/city_map_cities.parquet",
        modular=f"{VC}/modular_addition.json",
        power=f"{VC}/modular_addition_fourier.parquet",
    output:
        **stage_figures(
            bvc_figures.STAGE,
            f"{VC}/figures",
            reports={
                "city_map_probe": dict(
                    caption="../report/value_coding_city_map.rst",
                    category="Value coding",
                    subcategory="Figures",
                    labels={"figure": "city map probe"},
                ),
                "modular_fourier": dict(
                    caption="../report/value_coding_fourier.rst",
                    category="Value coding",
                    subcategory="Figures",
                    labels={"figure": "modular addition Fourier power"},
                ),
            },
        ),
    log:
        f"{VC}/logs/fig_value_coding.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        **stage_params(bvc_figures.STAGE),
    script:
        STAGE_SCRIPT


if VC_CFG["enabled"]:
    TARGETS["value_coding"] += [f"{VC}/table1.{ext}" for ext in ("parquet", "csv", "html")]
    TARGETS["value_coding"] += figure_paths(bvc_figures.STAGE, f"{VC}/figures")
