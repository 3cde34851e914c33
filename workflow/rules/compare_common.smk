# Helpers of the comparison and sprint rules (compare.smk) and of the findings rule.
COMPARE = HPO["compare"]
SPRINT = config["sprint"]
SPRINT_ROUND_FILES = ("best.json", "trials.csv", "summary.json", "cost.json")


def compare_files(pattern):
    return expand(
        pattern,
        family=COMPARE["families"],
        variant=COMPARE["train_variants"],
        algorithm=COMPARE["algorithms"],
    )


def is_main_study(family, variant, algorithm):
    return (
        family in HPO["families"]
        and variant in HPO["train_variants"]
        and algorithm in HPO["algorithms"]
    )


def repeat_dirs(wc):
    """Every repeat's study folder (repeat 0 of a main study is that study)."""
    return [
        (
            f"results/hpo/{wc.family}/{wc.variant}/{wc.algorithm}"
            if k == 0 and is_main_study(wc.family, wc.variant, wc.algorithm)
            else f"results/repeats/{wc.family}/{wc.variant}/{wc.algorithm}/r{k}"
        )
        for k in range(HPO["repeats"])
    ]


def compare_settings(algorithm):
    return {
        **hpo_settings(algorithm),
        "repeats": HPO["repeats"],
        "retrain_seeds": HPO["retrain_seeds"],
    }


def sprint_inputs():
    """The sprint's results and the single full round it is measured against (if enabled)."""
    if not SPRINT["enabled"]:
        return []
    single = "results/hpo/{family}/{variant}/{algorithm}".format(**SPRINT)
    return (
        rules.sprint_cheap.output
        + rules.sprint_full.output
        + rules.sprint_narrow.output
        + [f"{single}/summary.json", f"{single}/trials.csv"]
    )
