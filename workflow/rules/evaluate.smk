# Evaluation phase: every best model on all 7 variants (dev, test), and the batch-size baseline.


rule evaluate:
    input:
        model=rules.hpo.output.model,
        data=lambda wc: [f for v in VARIANTS for f in variant_files(wc.family, v)],
    output:
        "results/eval/{family}/{variant}/{algorithm}.json",
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
        settings={"variants": VARIANTS, "max_length": config["model"]["max_length"]},
    shell:
        "python workflow/scripts/evaluate.py --params {params.file} --family {wildcards.family}"
        " --variant {wildcards.variant} --algorithm {wildcards.algorithm} --threads {threads}"
        " --out {output} > {log} 2>&1"


rule baseline:
    input:
        data=variant_files(config["baseline"]["family"], config["baseline"]["variant"]),
        model=rules.pretrain.output,
    output:
        "results/baseline/bs{batch_size}.json",
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
        settings={
            "seed": config["seed"],
            "train": config["train"],
            "baseline": config["baseline"],
        },
    shell:
        "python workflow/scripts/baseline.py --params {params.file} --batch-size {wildcards.batch_size}"
        " --threads {threads} --out {output} > {log} 2>&1"
