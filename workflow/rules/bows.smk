# BOWS windows (paper §3.4): kept virtual; only the train/held-out window indices and statistics are written.


rule index_windows:
    input:
        docs=expand(f"{VOC}/docs/{{split}}.json", split=SPLITS),
        indptr=expand(f"{VOC}/docs/{{split}}.indptr.npy", split=SPLITS),
        indices=expand(f"{VOC}/docs/{{split}}.indices.npy", split=SPLITS),
    output:
        train=f"{WIN}/train_windows.npy",
        heldout=f"{WIN}/heldout_windows.npy",
        stats=f"{WIN}/windows.json",
    log:
        f"{LOGS}/index_windows.log",
    benchmark:
        f"{BENCH}/index_windows.tsv"
    conda:
        "../../envs/corpus.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        code=code_of("index_windows.py"),
        windows=WINDOWS_INDEX,
        prefixes={s: f"{VOC}/docs/{s}" for s in SPLITS},
    script:
        "../scripts/index_windows.py"


TARGETS["windows"] += [
    f"{WIN}/windows.json",
    *expand(f"{VOC}/docs/{{split}}.json", split=SPLITS),
]
