# Data phase: the corpus (demo generator or the user's files), then its casing variants.


rule corpus:
    input:
        code=code("corpus"),
    output:
        expand(layout.CORPUS_FILE, split=layout.SPLITS),
    log:
        "logs/corpus.log",
    benchmark:
        "logs/benchmarks/corpus.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("corpus"),
    shell:
        command("corpus")


rule variant:
    input:
        corpus=rules.corpus.output,
        code=code("variant"),
    output:
        expand(layout.VARIANT_FILE, split=layout.SPLITS, allow_missing=True),
    log:
        "logs/variants/{family}/{variant}.log",
    benchmark:
        "logs/benchmarks/variants/{family}/{variant}.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("variant"),
    shell:
        command("variant")
