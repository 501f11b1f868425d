# Vocabulary (paper §3.3) and documents as CSR token ids (paper §3.4).


rule build_vocab:
    input:
        train=f"{RES}/corpus/train.parquet",
    output:
        tsv=f"{VOC}/vocab.tsv",
    params:
        code=code_of("build_vocab.py"),
        vocab=config["vocab"],
    threads: 2
    resources:
        mem_mb=4000,
    benchmark: f"{BENCH}/build_vocab.tsv"
    log:
        f"{LOGS}/build_vocab.log",
    conda:
        "../../envs/corpus.yaml"
    script:
        "../scripts/build_vocab.py"


rule encode_docs:
    input:
        corpus=f"{RES}/corpus/{{split}}.parquet",
        vocab=f"{VOC}/vocab.tsv",
    output:
        indptr=f"{VOC}/docs/{{split}}.indptr.npy",
        indices=f"{VOC}/docs/{{split}}.indices.npy",
        meta=f"{VOC}/docs/{{split}}.json",
    params:
        code=code_of("encode_docs.py"),
        vocab=config["vocab"],
        prefix=lambda wc: f"{VOC}/docs/{wc.split}",
    threads: 2
    resources:
        mem_mb=4000,
    benchmark: f"{BENCH}/encode_docs_{{split}}.tsv"
    log:
        f"{LOGS}/encode_docs_{{split}}.log",
    conda:
        "../../envs/corpus.yaml"
    script:
        "../scripts/encode_docs.py"


TARGETS["vocab"] += [f"{VOC}/vocab.tsv"]
