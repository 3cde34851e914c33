# Benchmark (outside the default target): the Hugging Face Trainer against nerhpo's trainer.


rule benchmark:
    input:
        benchmark_data,
    output:
        "results/benchmark/{size}.jsonl",
    log:
        "logs/benchmark/{size}.log",
    benchmark:
        "logs/benchmarks/benchmark/{size}.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: 1
    resources:
        gpu=0,
    params:
        b=config["benchmark"],
        data=config["benchmark"]["data"],
        sentences=(
            f"--max-sentences {config['benchmark']['max_sentences']}"
            if config["benchmark"]["max_sentences"]
            else ""
        ),
    shell:
        "python workflow/scripts/benchmark.py --data {params.data:q} --size {wildcards.size}"
        " --epochs {params.b[epochs]} {params.sentences} --batch-size {params.b[batch_size]}"
        " --lr {params.b[lr]} --runs {params.b[runs]} --threads {threads} > {output} 2> {log}"
