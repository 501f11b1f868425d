# BOWS windows (paper §3.4): kept virtual; only the train/held-out window indices and statistics are written.
# Library: bows.windows; the stage: bows.stages.windows.

import bows.stages.windows as bstage_windows


rule index_windows:
    input:
        docs=expand(f"{VOC}/docs/{{split}}.json", split=SPLITS),
        indptr=expand(f"{VOC}/docs/{{split}}.indptr.npy", split=SPLITS),
        indices=expand(f"{VOC}/docs/{{split}}.indices.npy", split=SPLITS),
    output:
        **bstage_windows.STAGE.file_outputs(
            train=f"{WIN}/train_windows.npy",
            heldout=f"{WIN}/heldout_windows.npy",
            stats=f"{WIN}/windows.json",
        ),
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
        **stage_params(bstage_windows.STAGE),
    script:
        STAGE_SCRIPT


TARGETS["windows"] += [
    f"{WIN}/windows.json",
    *expand(f"{VOC}/docs/{{split}}.json", split=SPLITS),
]
