# Corpus: any source (bundled Wikipedia text, a hub dataset, your own files) -> one parquet per split.
# Library: bows.corpus; the stage: bows.stages.corpus.

import bows.stages.corpus as bstage_corpus


rule prepare_corpus:
    output:
        **bstage_corpus.STAGE.file_outputs(
            **{split: f"{RES}/corpus/{split}.parquet" for split in SPLITS},
            summary=f"{RES}/corpus/summary.json",
        ),
    log:
        f"{LOGS}/prepare_corpus.log",
    benchmark:
        f"{BENCH}/prepare_corpus.tsv"
    conda:
        "../../envs/corpus.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        **stage_params(bstage_corpus.STAGE),
    script:
        STAGE_SCRIPT


TARGETS["corpus"] += [f"{RES}/corpus/summary.json"]
