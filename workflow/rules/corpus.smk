# Corpus: any source (bundled Wikipedia text, a hub dataset, your own files) -> one parquet per split.


rule prepare_corpus:
    output:
        splits=expand(f"{RES}/corpus/{{split}}.parquet", split=SPLITS),
        summary=f"{RES}/corpus/summary.json",
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
        code=code_of("prepare_corpus.py"),
        corpus=config["corpus"],
        group_size=G,
    script:
        "../scripts/prepare_corpus.py"


TARGETS["corpus"] += [f"{RES}/corpus/summary.json"]
