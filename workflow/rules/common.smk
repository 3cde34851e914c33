import os
import sys

from nerhpo.core import layout
from nerhpo.pipeline import stages

# The stages are defined once in the package (nerhpo.pipeline.stages: command, settings, code;
# nerhpo.core.layout: every path), and dvc.yaml is written from the same table. Each rule below
# takes from there its shell command, its settings (`params.settings`: the params keys whose
# change re-runs it, as in DVC) and its code (every module its script imports, as an input).
PARAMS_FILE = workflow.configfiles[-1] if workflow.configfiles else "params.yaml"
FAMILIES = list(config["tag_families"])
VARIANTS = config["variants"]["names"]
HPO = config["hpo"]


wildcard_constraints:
    family="[a-z][a-z0-9_]*",
    variant="[a-z-]+",
    split="train|dev|test",
    batch_size="[0-9]+",
    algorithm="[a-z]+",


def variant_files(family, variant):
    return layout.variant_files(family, variant)


def code(stage):
    """The stage's script and every package module it imports."""
    script = f"{stages.SCRIPTS_DIR}/{stages.STAGES[stage].script}"
    return [script, *stages.code_deps(stages.STAGES[stage].script)]


def settings(stage):
    """What re-runs the stage's jobs when it changes (the same keys as its DVC stage)."""
    return lambda wc: stages.settings(stage, config, wc)


def command(stage, gpu=False):
    """The stage's command line, with its log; a GPU job first takes GPU slots of its own."""
    line = f"{stages.snakemake_shell(stage, config)} > {{log}} 2>&1"
    if gpu:
        return f"python workflow/scripts/gpu_slot.py --gpus {{resources.gpu}} -- {line}"
    return line


# Job priorities (the rules' `priority:`): with few cores, Snakemake starts the ready jobs of
# highest priority first. The comparison chain, which leads to the findings through several
# long jobs, goes first (repeats, re-training, the sprint's data and rounds: 2; a chain's short
# first step too, as priorities do not pass to a job's inputs), then the HPO studies (1), and
# the short jobs without dependents (evaluation, baseline: 0) last, so that a run does not end
# with one long job on one core while the others idle.


def hpo_threads():
    return max(1, int(HPO["concurrency"] * HPO["cpus_per_trial"]))


def main_studies(template):
    return expand(
        template,
        family=HPO["families"],
        variant=HPO["train_variants"],
        algorithm=HPO["algorithms"],
    )


def study_files(name):
    return main_studies(f"{layout.STUDY_DIR}/{name}")


def all_targets():
    data = [f for fam in FAMILIES for var in VARIANTS for f in variant_files(fam, var)]
    baselines = expand(
        layout.BASELINE_FILE, batch_size=config["baseline"]["batch_sizes"]
    )
    return (
        data
        + study_files("best.json")
        + main_studies(layout.EVAL_FILE)
        + baselines
        + [layout.REPORT_TABLES]
    )


def ray_head_wanted():
    """A Ray head shared by a local run's HPO jobs, which attach to it instead of starting
    their own Ray (NERHPO_RAY_HEAD=0 turns it off; not on a cluster, nor with hpo.ray_address).
    """
    return (
        workflow.local_exec
        and not HPO["ray_address"]
        and os.environ.get("NERHPO_RAY_HEAD", "1") == "1"
    )


def benchmark_data(wildcards):
    """The GermEval files the benchmark reads; one line and exit 1 when benchmark.data is unset
    (only when a benchmark is asked for: the default target runs none)."""
    folder = config["benchmark"]["data"]
    if not folder:
        sys.exit(
            "error: benchmark.data: set it to a folder with NER-de-test.tsv and NER-de-dev.tsv"
        )
    return [
        os.path.join(folder, name) for name in ("NER-de-test.tsv", "NER-de-dev.tsv")
    ]


# the pretraining study (workflow/rules/pretrain_hpo.smk, outside the default target)
PRETRAIN_HPO = config.get("pretrain_hpo") or {}


def pretrain_hpo_threads():
    return max(
        1,
        int(PRETRAIN_HPO.get("concurrency", 1) * PRETRAIN_HPO.get("cpus_per_trial", 1)),
    )


def pretrain_hpo_probe_files(wildcards):
    """The probe's variant files; one line and exit 1 without a pretrain_hpo block (only when
    the study is asked for: the default target runs none)."""
    if not PRETRAIN_HPO:
        sys.exit(
            "error: pretrain_hpo: no such block in the params file (docs/configuration.md)"
        )
    probe = PRETRAIN_HPO["probe"]
    files = variant_files(probe["family"], probe["variant"])
    finetune = PRETRAIN_HPO["finetune"]
    study = {"family": probe["family"], "variant": probe["variant"]}
    study["algorithm"] = finetune["algorithm"]
    # the main study the fine-tuning on the best encoder is set beside (if it is one)
    if finetune["enabled"] and is_main_study(**study):
        files.append(f"{layout.path(layout.STUDY_DIR, **study)}/best.json")
    return files
