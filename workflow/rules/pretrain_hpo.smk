# The pretraining study (outside the default target): `snakemake pretrain_hpo`. HPO of the scratch
# encoder's masked-LM pretraining, scored on the held-out MLM loss and on dev F1 of a short
# fine-tune (nerhpo.search.pretrain_study); its findings in results/pretrain_hpo/findings/.


rule pretrain_hpo:
    input:
        train=layout.CORPUS_FILE.format(split="train"),
        data=pretrain_hpo_probe_files,
        code=code("pretrain_hpo"),
    output:
        trials=f"{layout.PRETRAIN_HPO_DIR}/trials.csv",
        best=f"{layout.PRETRAIN_HPO_DIR}/best.json",
        summary=f"{layout.PRETRAIN_HPO_DIR}/summary.json",
        encoder=directory(layout.PRETRAIN_HPO_ENCODER),
        findings=directory(layout.PRETRAIN_HPO_FINDINGS),
    log:
        "logs/pretrain_hpo.log",
    benchmark:
        "logs/benchmarks/pretrain_hpo.tsv"
    conda:
        "../envs/nerhpo.yaml"
    threads: pretrain_hpo_threads()
    resources:
        gpu=0,
    params:
        file=PARAMS_FILE,
        settings=settings("pretrain_hpo"),
    shell:
        command("pretrain_hpo")
