import os

# Path helpers and the lists the pipeline expands over; logic lives in the nerhpo package.
PARAMS_FILE = workflow.configfiles[-1] if workflow.configfiles else "params.yaml"
FAMILIES = list(config["tag_families"])
VARIANTS = config["variants"]["names"]
SPLITS = ["train", "dev", "test"]


wildcard_constraints:
    family="[a-z][a-z0-9_]*",
    variant="[a-z-]+",
    split="train|dev|test",
    batch_size="[0-9]+",
    algorithm="[a-z]+",


def variant_files(family, variant):
    return expand(
        "data/variants/{family}/{variant}/{split}.tsv",
        family=family,
        variant=variant,
        split=SPLITS,
    )


HPO = config["hpo"]
ALGORITHM_BLOCKS = ("asha", "bohb", "pbt", "random", "grid", "tpe", "gp")


# Job priorities (the rules' `priority:`): with few cores, Snakemake starts the ready jobs of
# highest priority first. The comparison chain, which leads to the findings through several
# long jobs, goes first (repeats, re-training, the sprint's data and rounds: 2; a chain's short
# first step too, as priorities do not pass to a job's inputs), then the HPO studies (1), and
# the short jobs without dependents (evaluation, baseline: 0) last, so that a run does not end
# with one long job on one core while the others idle.


def hpo_threads():
    return max(1, int(HPO["concurrency"] * HPO["cpus_per_trial"]))


def hpo_settings(algorithm):
    """The settings one study depends on: only its own algorithm's block (cf. dvc.yaml)."""
    # the comparison's keys (repeats, retrain_seeds, compare) are no setting of a main study
    excluded = ALGORITHM_BLOCKS + ("ray_address", "repeats", "retrain_seeds", "compare")
    shared = {k: v for k, v in HPO.items() if k not in excluded}
    return {
        "seed": config["seed"],
        "train": config["train"],
        "model": config["model"],
        "hpo": {**shared, algorithm: HPO[algorithm]},
    }


def study_files(name):
    return expand(
        "results/hpo/{family}/{variant}/{algorithm}/{name}",
        family=HPO["families"],
        variant=HPO["train_variants"],
        algorithm=HPO["algorithms"],
        name=name,
    )


def all_targets():
    data = [f for fam in FAMILIES for var in VARIANTS for f in variant_files(fam, var)]
    evals = expand(
        "results/eval/{family}/{variant}/{algorithm}.json",
        family=HPO["families"],
        variant=HPO["train_variants"],
        algorithm=HPO["algorithms"],
    )
    baselines = expand(
        "results/baseline/bs{n}.json", n=config["baseline"]["batch_sizes"]
    )
    return (
        data
        + study_files("best.json")
        + evals
        + baselines
        + ["results/report/tables.md"]
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
