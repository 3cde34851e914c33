# Model phase: pretrain the scratch encoder once, then one HPO study per family x variant x algorithm.


rule pretrain:
    input:
        train=layout.CORPUS_FILE.format(split="train"),
        code=code("pretrain"),
    output:
        directory(layout.PRETRAINED_DIR),
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
        settings=settings("pretrain"),
    shell:
        command("pretrain")


rule hpo:
    input:
        # the family's other variants too: their dev sets score the trials under
        # hpo.objective mean or worst
        data=lambda wc: [f for v in VARIANTS for f in variant_files(wc.family, v)],
        model=rules.pretrain.output,
        code=code("hpo"),
    output:
        best=f"{layout.STUDY_DIR}/best.json",
        trials=f"{layout.STUDY_DIR}/trials.csv",
        summary=f"{layout.STUDY_DIR}/summary.json",
        model=directory(layout.STUDY_MODEL_DIR),
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
        settings=settings("hpo"),
    shell:
        command("hpo", gpu=True)
