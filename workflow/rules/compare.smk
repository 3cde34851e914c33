# Comparison phase: repeated studies (other HPO seeds), re-trained winners (other training
# seeds) and the progressive-fidelity sprint; the findings stage turns them into claims.
rule repeats:
    input:
        data=lambda wc: variant_files(wc.family, wc.variant),
        model=rules.pretrain.output,
        code=code("repeats"),
    output:
        layout.REPEATS_SUMMARY,
    log:
        "logs/repeats/{family}/{variant}/{algorithm}.log",
    benchmark:
        "logs/benchmarks/repeats/{family}/{variant}/{algorithm}.tsv"
    # the comparison chain first (job priorities: common.smk)
    priority: 2
    conda:
        "../envs/nerhpo.yaml"
    threads: hpo_threads()
    resources:
        gpu=config["hpo"]["gpus_per_job"],
    params:
        file=PARAMS_FILE,
        settings=settings("repeats"),
    shell:
        command("repeats", gpu=True)


rule retrain:
    input:
        # repeats.json stands for the repeats it ran; a main study's best.json for repeat 0
        repeats=rules.repeats.output,
        best=main_repeat,
        data=lambda wc: variant_files(wc.family, wc.variant),
        model=rules.pretrain.output,
        code=code("retrain"),
    output:
        layout.RETRAIN_FILE,
    log:
        "logs/retrain/{family}/{variant}/{algorithm}.log",
    benchmark:
        "logs/benchmarks/retrain/{family}/{variant}/{algorithm}.tsv"
    priority: 2
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("retrain"),
    shell:
        command("retrain")


rule sprint_data:
    input:
        data=variant_files(SPRINT["family"], SPRINT["variant"]),
        code=code("sprint_data"),
    output:
        directory(layout.SPRINT_DATA_DIR),
    log:
        "logs/sprint/data.log",
    priority: 2
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("sprint_data"),
    shell:
        command("sprint_data")


rule sprint_cheap:
    input:
        data=rules.sprint_data.output,
        model=rules.pretrain.output,
        code=code("sprint_cheap"),
    output:
        sprint_round_files(layout.SPRINT_CHEAP_DIR),
    log:
        "logs/sprint/cheap.log",
    benchmark:
        "logs/benchmarks/sprint/cheap.tsv"
    priority: 2
    conda:
        "../envs/nerhpo.yaml"
    threads: hpo_threads()
    resources:
        gpu=config["hpo"]["gpus_per_job"],
    params:
        file=PARAMS_FILE,
        settings=settings("sprint_cheap"),
    shell:
        command("sprint_cheap", gpu=True)


rule sprint_narrow:
    input:
        trials=f"{layout.SPRINT_CHEAP_DIR}/trials.csv",
        code=code("sprint_narrow"),
    output:
        layout.SPRINT_SPACE,
    log:
        "logs/sprint/narrow.log",
    priority: 2
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("sprint_narrow"),
    shell:
        command("sprint_narrow")


rule sprint_full:
    input:
        space=rules.sprint_narrow.output,
        data=variant_files(SPRINT["family"], SPRINT["variant"]),
        model=rules.pretrain.output,
        code=code("sprint_full"),
    output:
        sprint_round_files(layout.SPRINT_FULL_DIR),
    log:
        "logs/sprint/full.log",
    benchmark:
        "logs/benchmarks/sprint/full.tsv"
    priority: 2
    conda:
        "../envs/nerhpo.yaml"
    threads: hpo_threads()
    resources:
        gpu=config["hpo"]["gpus_per_job"],
    params:
        file=PARAMS_FILE,
        settings=settings("sprint_full"),
    shell:
        command("sprint_full", gpu=True)
