# Report phase: tables and figures into results/report/ and the README's generated sections.


rule report:
    input:
        evals=expand(
            "results/eval/{family}/{variant}/{algorithm}.json",
            family=HPO["families"],
            variant=HPO["train_variants"],
            algorithm=HPO["algorithms"],
        ),
        studies=study_files("summary.json"),
        baselines=expand(
            "results/baseline/bs{n}.json", n=config["baseline"]["batch_sizes"]
        ),
        findings=rules.findings.output.markdown,
        comparison=rules.findings.output.comparison,
    output:
        tables="results/report/tables.md",
        anytime=report(
            "results/report/anytime.png",
            caption="../report/anytime.rst",
            category="HPO",
        ),
        hparams=report(
            "results/report/hparams.png",
            caption="../report/hparams.rst",
            category="HPO",
        ),
        heatmaps=report(
            expand("results/report/heatmap_{family}.png", family=HPO["families"]),
            caption="../report/heatmap.rst",
            category="Casing robustness",
        ),
    log:
        "logs/report.log",
    benchmark:
        "logs/benchmarks/report.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
    shell:
        "python workflow/scripts/report.py --params {params.file} --readme README.md"
        " --out results/report --findings {input.findings} > {log} 2>&1"
