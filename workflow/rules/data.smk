# Data phase: the corpus (demo generator or the user's files), then its casing variants.


rule corpus:
    output:
        train="data/corpus/train.tsv",
        dev="data/corpus/dev.tsv",
        test="data/corpus/test.tsv",
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
        settings={"seed": config["seed"], "corpus": config["corpus"]},
    shell:
        "python workflow/scripts/make_corpus.py --params {params.file} --out data/corpus > {log} 2>&1"


rule variant:
    input:
        rules.corpus.output,
    output:
        train="data/variants/{family}/{variant}/train.tsv",
        dev="data/variants/{family}/{variant}/dev.tsv",
        test="data/variants/{family}/{variant}/test.tsv",
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
        settings=lambda wc: {
            "seed": config["seed"],
            "mapping": config["tag_families"][wc.family],
            "mix_probability": config["variants"]["mix_probability"],
        },
    shell:
        "python workflow/scripts/make_variant.py --params {params.file} --family {wildcards.family}"
        " --variant {wildcards.variant} --out data/variants/{wildcards.family}/{wildcards.variant}"
        " > {log} 2>&1"
