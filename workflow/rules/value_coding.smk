# Value-coding features (paper §1.2, Table 1): the US city map (the official experiment) and modular addition (a
# re-design: the paper gives numbers but no code). Each task trains a small embedding + MLP, finds its value space
# (a ridge probe for (lat, lon); the key Fourier frequencies), and evaluates the network with that space kept or
# removed. Independent of the corpus: everything lands under results/value_coding/.

VC = "results/value_coding"
VC_CFG = config["value_coding"]
VC_FORMATS = config["figures"]["formats"]
VC_MAIN = main_format(VC_FORMATS)
VC_OTHER = [f for f in VC_FORMATS if f != VC_MAIN]


rule value_coding_city:
    output:
        json=f"{VC}/city_map.json",
        cities=multiext(f"{VC}/city_map_cities", ".parquet", ".csv"),
    log:
        f"{VC}/logs/value_coding_city.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=3000,
    params:
        code=code_of("value_coding_city.py"),
        cfg=VC_CFG["city"],
    script:
        "../scripts/value_coding_city.py"


rule value_coding_modular:
    output:
        json=f"{VC}/modular_addition.json",
        power=multiext(f"{VC}/modular_addition_fourier", ".parquet", ".csv"),
    log:
        f"{VC}/logs/value_coding_modular.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=2000,
    params:
        code=code_of("value_coding_modular.py"),
        cfg=VC_CFG["modular"],
    script:
        "../scripts/value_coding_modular.py"


rule value_coding_table:
    input:
        city=f"{VC}/city_map.json",
        modular=f"{VC}/modular_addition.json",
    output:
        table=multiext(f"{VC}/table1", ".parquet", ".csv"),
        html=report(
            f"{VC}/table1.html",
            caption="../report/value_coding_table.rst",
            category="Value coding",
            subcategory="Table 1",
            labels={"table": "Table 1"},
        ),
    log:
        f"{VC}/logs/value_coding_table.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        code=code_of("value_coding_table.py"),
    script:
        "../scripts/value_coding_table.py"


rule fig_value_coding:
    input:
        city=f"{VC}/city_map.json",
        cities=f"{VC}/city_map_cities.parquet",
        modular=f"{VC}/modular_addition.json",
        power=f"{VC}/modular_addition_fourier.parquet",
    output:
        city_map=report(
            f"{VC}/figures/city_map_probe.{VC_MAIN}",
            caption="../report/value_coding_city_map.rst",
            category="Value coding",
            subcategory="Figures",
            labels={"figure": "city map probe"},
        ),
        city_map_other=[f"{VC}/figures/city_map_probe.{fmt}" for fmt in VC_OTHER],
        fourier=report(
            f"{VC}/figures/modular_fourier.{VC_MAIN}",
            caption="../report/value_coding_fourier.rst",
            category="Value coding",
            subcategory="Figures",
            labels={"figure": "modular addition Fourier power"},
        ),
        fourier_other=[f"{VC}/figures/modular_fourier.{fmt}" for fmt in VC_OTHER],
    log:
        f"{VC}/logs/fig_value_coding.log",
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        figures=config["figures"],
        code=code_of("fig_value_coding.py"),
    script:
        "../scripts/fig_value_coding.py"


if VC_CFG["enabled"]:
    TARGETS["value_coding"] += [f"{VC}/table1.{ext}" for ext in ("parquet", "csv", "html")]
    TARGETS["value_coding"] += [
        f"{VC}/figures/{n}.{fmt}" for n in ("city_map_probe", "modular_fourier") for fmt in VC_FORMATS
    ]
