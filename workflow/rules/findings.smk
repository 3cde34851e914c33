# Findings phase: which algorithm to trust, which hyperparameters matter, border checks, patterns.


rule findings:
    input:
        trials=study_files("trials.csv"),
        best=study_files("best.json"),
        evals=main_studies(layout.EVAL_FILE),
        errors=main_studies(layout.ERRORS_FILE),
        repeats=compare_files(layout.REPEATS_SUMMARY),
        retrain=compare_files(layout.RETRAIN_FILE) if HPO["retrain_seeds"] > 0 else [],
        sprint=sprint_inputs(),
        objective=objective_files("eval.json"),
        casing_seeds=casing_seed_files(),
        code=code("findings"),
    output:
        markdown=layout.FINDINGS_FILE,
        importance="results/findings/importance.csv",
        border="results/findings/border.json",
        comparison="results/findings/comparison.json",
        casing="results/findings/casing.json",
        figures=report(
            expand(
                "results/findings/{name}.png",
                name=[
                    "importance",
                    "lr_batch_heatmap",
                    "lr_warmup_heatmap",
                    "compare_anytime",
                    "compare_retrain",
                    "casing",
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
        settings=settings("findings"),
    shell:
        command("findings")
