# Vocabulary (paper §3.3) and documents as CSR token ids (paper §3.4).


rule build_vocab:
    input:
        train=f"{RES}/corpus/train.parquet",
    output:
        tsv=f"{VOC}/vocab.tsv",
    log:
        f"{LOGS}/build_vocab.log",
    benchmark:
        f"{BENCH}/build_vocab.tsv"
    conda:
        "../../envs/corpus.yaml"
    threads: 2
    resources:
        mem_mb=4000,
    params:
        code=code_of("build_vocab.py"),
        vocab=config["vocab"],
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
    log:
        f"{LOGS}/encode_docs_{{split}}.log",
    benchmark:
        f"{BENCH}/encode_docs_{{split}}.tsv"
    conda:
        "../../envs/corpus.yaml"
    threads: 2
    resources:
        mem_mb=4000,
    params:
        code=code_of("encode_docs.py"),
        vocab=config["vocab"],
        prefix=lambda wc: f"{VOC}/docs/{wc.split}",
    script:
        "../scripts/encode_docs.py"


TARGETS["vocab"] += [f"{VOC}/vocab.tsv"]
