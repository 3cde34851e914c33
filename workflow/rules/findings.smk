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
        repeats=compare_files(
            "results/repeats/{family}/{variant}/{algorithm}/repeats.json"
        ),
        retrain=(
            compare_files("results/retrain/{family}/{variant}/{algorithm}.json")
            if HPO["retrain_seeds"] > 0
            else []
        ),
        sprint=sprint_inputs(),
    output:
        markdown="results/findings/findings.md",
        importance="results/findings/importance.csv",
        border="results/findings/border.json",
        comparison="results/findings/comparison.json",
        figures=report(
            expand(
                "results/findings/{name}.png",
                name=[
                    "importance",
                    "lr_batch_heatmap",
                    "lr_warmup_heatmap",
                    "compare_anytime",
                    "compare_retrain",
                ],
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
        settings={
            "seed": config["seed"],
            "space": config["hpo"]["search_space"],
            "compare": compare_settings("random"),
            "sprint": SPRINT,
        },
    shell:
        "python workflow/scripts/findings.py --params {params.file} --results results"
        " --out results/findings > {log} 2>&1"
