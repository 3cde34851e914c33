# Model phase: pretrain the scratch encoder once, then one HPO study per family x variant x algorithm.


rule pretrain:
    input:
        train=rules.corpus.output.train,
    output:
        directory("results/pretrained"),
    log:
        "logs/pretrain.log",
    benchmark:
        "logs/benchmarks/pretrain.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 2
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings={"seed": config["seed"], "model": config["model"]},
    shell:
        "python workflow/scripts/pretrain.py --params {params.file} --corpus-train {input.train}"
        " --out {output} --threads {threads} > {log} 2>&1"


rule hpo:
    input:
        data=lambda wc: variant_files(wc.family, wc.variant),
        model=rules.pretrain.output,
    output:
        best="results/hpo/{family}/{variant}/{algorithm}/best.json",
        trials="results/hpo/{family}/{variant}/{algorithm}/trials.csv",
        summary="results/hpo/{family}/{variant}/{algorithm}/summary.json",
        model=directory("results/hpo/{family}/{variant}/{algorithm}/model"),
    log:
        "logs/hpo/{family}/{variant}/{algorithm}.log",
    benchmark:
        "logs/benchmarks/hpo/{family}/{variant}/{algorithm}.tsv"
    # long jobs first, short ones last (job priorities: common.smk)
    priority: 1
    conda:
        "../envs/nerhpo.yaml"
    threads: hpo_threads()
    resources:
        gpu=config["hpo"]["gpus_per_job"],
    params:
        file=PARAMS_FILE,
        settings=lambda wc: hpo_settings(wc.algorithm),
    shell:
        "python workflow/scripts/gpu_slot.py --gpus {resources.gpu} --"
        " python workflow/scripts/hpo.py --params {params.file} --family {wildcards.family}"
        " --variant {wildcards.variant} --algorithm {wildcards.algorithm} > {log} 2>&1"
