# Helpers of the comparison, objective and sprint rules and of the findings rule.
COMPARE = HPO["compare"]
SPRINT = config["sprint"]
OBJECTIVES = config["objectives"]
SPRINT_DATA = layout.path(
    layout.VARIANT_DIR, family=SPRINT["family"], variant=SPRINT["variant"]
)


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


def main_repeat(wc):
    """Repeat 0 of a compared series where it is a main study (that study's best.json)."""
    if HPO["repeats"] > 0 and is_main_study(wc.family, wc.variant, wc.algorithm):
        return [f"{layout.path(layout.STUDY_DIR, **wc)}/best.json"]
    return []


def sprint_round_files(directory):
    return [f"{directory}/{name}" for name in layout.SPRINT_ROUND_FILES]


def sprint_inputs():
    """The sprint's results and the single full round it is measured against (if enabled)."""
    if not SPRINT["enabled"]:
        return []
    single = layout.path(
        layout.STUDY_DIR,
        family=SPRINT["family"],
        variant=SPRINT["variant"],
        algorithm=SPRINT["algorithm"],
    )
    return (
        rules.sprint_cheap.output
        + rules.sprint_full.output
        + rules.sprint_narrow.output
        + [f"{single}/summary.json", f"{single}/trials.csv"]
    )


def objective_files(name):
    """A file of every objective study (none when objectives.enabled is false)."""
    if not OBJECTIVES["enabled"]:
        return []
    return expand(
        f"{layout.OBJECTIVE_DIR}/{name}", variant=OBJECTIVES["train_variants"]
    )


def casing_seed_files():
    """Every re-trained training variant's file (none when casing_seeds.seeds is 0)."""
    block = config["casing_seeds"]
    if int(block["seeds"]) <= 0:
        return []
    return expand(
        layout.CASING_SEEDS_FILE,
        family=block["families"],
        variant=HPO["train_variants"],
    )
