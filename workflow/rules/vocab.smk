# Vocabulary (paper §3.3) and documents as CSR token ids (paper §3.4). The stages: bows.stages.vocab, .encode.

import bows.stages.encode as bstage_encode
import bows.stages.vocab as bstage_vocab


rule build_vocab:
    input:
        train=f"{RES}/corpus/train.parquet",
    output:
        **bstage_vocab.STAGE.file_outputs(vocab=f"{VOC}/vocab.tsv"),
    log:
        f"{LOGS}/build_vocab.log",
    benchmark:
        f"{BENCH}/build_vocab.tsv"
    conda:
        "../../envs/corpus.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        **stage_params(bstage_vocab.STAGE),
    script:
        STAGE_SCRIPT


rule encode_docs:
    input:
        corpus=f"{RES}/corpus/{{split}}.parquet",
        vocab=f"{VOC}/vocab.tsv",
    output:
        **bstage_encode.STAGE.file_outputs(
            indptr=f"{VOC}/docs/{{split}}.indptr.npy",
            indices=f"{VOC}/docs/{{split}}.indices.npy",
            meta=f"{VOC}/docs/{{split}}.json",
        ),
    log:
        f"{LOGS}/encode_docs_{{split}}.log",
    benchmark:
        f"{BENCH}/encode_docs_{{split}}.tsv"
    conda:
        "../../envs/corpus.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        **stage_params(bstage_encode.STAGE),
    script:
        STAGE_SCRIPT


TARGETS["vocab"] += [f"{VOC}/vocab.tsv"]
