# Casing robustness beyond one study per cell: main studies re-run under objectives.objective
# (evaluated on every variant), and each training variant's best configuration re-trained with seeds.
rule objective:
    input:
        data=[f for v in VARIANTS for f in variant_files(OBJECTIVES["family"], v)],
        model=rules.pretrain.output,
        code=code("objective"),
    output:
        [f"{layout.OBJECTIVE_DIR}/{name}" for name in layout.OBJECTIVE_FILES],
    log:
        "logs/objective/{variant}.log",
    benchmark:
        "logs/benchmarks/objective/{variant}.tsv"
    # a long job whose result the findings wait for (job priorities: common.smk)
    priority: 2
    conda:
        "../envs/nerhpo.yaml"
    threads: hpo_threads()
    resources:
        gpu=config["hpo"]["gpus_per_job"],
    params:
        file=PARAMS_FILE,
        settings=settings("objective"),
    shell:
        command("objective", gpu=True)


rule casing_seeds:
    input:
        best=lambda wc: expand(
            f"{layout.STUDY_DIR}/best.json",
            family=wc.family,
            variant=wc.variant,
            algorithm=HPO["algorithms"],
        ),
        data=lambda wc: [f for v in VARIANTS for f in variant_files(wc.family, v)],
        model=rules.pretrain.output,
        code=code("casing_seeds"),
    output:
        layout.CASING_SEEDS_FILE,
    log:
        "logs/casing_seeds/{family}/{variant}.log",
    benchmark:
        "logs/benchmarks/casing_seeds/{family}/{variant}.tsv"
    priority: 0
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("casing_seeds"),
    shell:
        command("casing_seeds")
