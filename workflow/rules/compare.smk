# Comparison phase: repeated studies (other HPO seeds), re-trained winners (other training
# seeds) and the progressive-fidelity sprint; the findings stage turns them into claims.
rule repeats:
    input:
        data=lambda wc: variant_files(wc.family, wc.variant),
        model=rules.pretrain.output,
    output:
        "results/repeats/{family}/{variant}/{algorithm}/repeats.json",
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
        settings=lambda wc: compare_settings(wc.algorithm),
    shell:
        "python workflow/scripts/gpu_slot.py --gpus {resources.gpu} --"
        " python workflow/scripts/repeats.py --params {params.file} --family {wildcards.family}"
        " --variant {wildcards.variant} --algorithm {wildcards.algorithm} --out {output}"
        " > {log} 2>&1"


rule retrain:
    input:
        repeats=rules.repeats.output,
        # repeats.json stands for the repeats it ran; a main study's best.json for repeat 0
        best=lambda wc: [
            f"{d}/best.json" for d in repeat_dirs(wc) if d.startswith("results/hpo/")
        ],
        data=lambda wc: variant_files(wc.family, wc.variant),
        model=rules.pretrain.output,
    output:
        "results/retrain/{family}/{variant}/{algorithm}.json",
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
        settings=lambda wc: compare_settings(wc.algorithm),
    shell:
        "python workflow/scripts/retrain.py --params {params.file} --family {wildcards.family}"
        " --variant {wildcards.variant} --algorithm {wildcards.algorithm} --threads {threads}"
        " --out {output} > {log} 2>&1"


rule sprint_data:
    input:
        variant_files(SPRINT["family"], SPRINT["variant"]),
    output:
        directory("results/sprint/data"),
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
        settings={"seed": config["seed"], "sprint": SPRINT},
    shell:
        "python workflow/scripts/sprint.py --params {params.file} --step data > {log} 2>&1"


rule sprint_cheap:
    input:
        data=rules.sprint_data.output,
        model=rules.pretrain.output,
    output:
        expand("results/sprint/cheap/{name}", name=SPRINT_ROUND_FILES),
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
        settings={**hpo_settings(SPRINT["algorithm"]), "sprint": SPRINT},
    shell:
        "python workflow/scripts/gpu_slot.py --gpus {resources.gpu} --"
        " python workflow/scripts/sprint.py --params {params.file} --step cheap > {log} 2>&1"


rule sprint_narrow:
    input:
        trials="results/sprint/cheap/trials.csv",
    output:
        "results/sprint/space.json",
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
        settings={
            "seed": config["seed"],
            "sprint": SPRINT,
            "space": HPO["search_space"],
        },
    shell:
        "python workflow/scripts/sprint.py --params {params.file} --step narrow > {log} 2>&1"


rule sprint_full:
    input:
        space=rules.sprint_narrow.output,
        data=variant_files(SPRINT["family"], SPRINT["variant"]),
        model=rules.pretrain.output,
    output:
        expand("results/sprint/full/{name}", name=SPRINT_ROUND_FILES),
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
        settings={**hpo_settings(SPRINT["algorithm"]), "sprint": SPRINT},
    shell:
        "python workflow/scripts/gpu_slot.py --gpus {resources.gpu} --"
        " python workflow/scripts/sprint.py --params {params.file} --step full > {log} 2>&1"
