# Findings phase: which algorithm to trust, which hyperparameters matter, border checks, patterns.


rule findings:
    input:
        trials=study_files("trials.csv"),
        best=study_files("best.json"),
        evals=expand(
            "results/eval/{family}/{variant}/{algorithm}.json",
            family=HPO["families"],
            variant=HPO["train_variants"],
            algorithm=HPO["algorithms"],
        ),
    output:
        markdown="results/findings/findings.md",
        importance="results/findings/importance.csv",
        border="results/findings/border.json",
        figures=report(
            expand(
                "results/findings/{name}.png",
                name=["importance", "lr_batch_heatmap", "lr_warmup_heatmap"],
            ),
            caption="../report/findings.rst",
            category="Findings",
        ),
    log:
        "logs/findings.log",
    benchmark:
        "logs/benchmarks/findings.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings={"seed": config["seed"], "space": config["hpo"]["search_space"]},
    shell:
        "python workflow/scripts/findings.py --params {params.file} --results results"
        " --out results/findings > {log} 2>&1"
