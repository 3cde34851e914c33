# Evaluation phase: every best model on all variants (dev, test), with the casing errors and,
# for cased-trained models, the truecased route; and the batch-size baseline.


rule evaluate:
    input:
        model=rules.hpo.output.model,
        data=lambda wc: [f for v in VARIANTS for f in variant_files(wc.family, v)],
        code=code("evaluate"),
    output:
        layout.EVAL_FILE,
        errors=layout.ERRORS_FILE,
    log:
        "logs/eval/{family}/{variant}/{algorithm}.log",
    benchmark:
        "logs/benchmarks/eval/{family}/{variant}/{algorithm}.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("evaluate"),
    shell:
        command("evaluate")


rule baseline:
    input:
        data=variant_files(config["baseline"]["family"], config["baseline"]["variant"]),
        model=rules.pretrain.output,
        code=code("baseline"),
    output:
        layout.BASELINE_FILE,
    log:
        "logs/baseline/bs{batch_size}.log",
    benchmark:
        "logs/benchmarks/baseline/bs{batch_size}.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("baseline"),
    shell:
        command("baseline")
