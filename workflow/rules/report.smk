# Report phase: what the corpus holds, then tables and figures into results/report/ and the
# README's generated sections.


rule corpus_report:
    input:
        corpus=rules.corpus.output,
        model=rules.pretrain.output,
        code=code("corpus_report"),
    output:
        markdown=layout.CORPUS_REPORT_FILE,
        json="results/corpus/corpus.json",
        lengths=report(
            "results/corpus/lengths.png",
            caption="../report/lengths.rst",
            category="Corpus",
        ),
    log:
        "logs/corpus_report.log",
    benchmark:
        "logs/benchmarks/corpus_report.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("corpus_report"),
    shell:
        command("corpus_report")


rule report:
    input:
        evals=main_studies(layout.EVAL_FILE),
        studies=study_files("summary.json"),
        baselines=expand(
            layout.BASELINE_FILE, batch_size=config["baseline"]["batch_sizes"]
        ),
        findings=rules.findings.output.markdown,
        corpus=layout.CORPUS_REPORT_FILE,
        comparison=rules.findings.output.comparison,
        code=code("report"),
    output:
        tables=layout.REPORT_TABLES,
        journal=layout.OPTUNA_JOURNAL,
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
        settings=settings("report"),
    shell:
        command("report")
