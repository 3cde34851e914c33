# Path helpers and the lists the pipeline expands over; logic lives in the nerhpo package.
PARAMS_FILE = workflow.configfiles[-1] if workflow.configfiles else "params.yaml"
FAMILIES = list(config["tag_families"])
VARIANTS = config["variants"]["names"]
SPLITS = ["train", "dev", "test"]


wildcard_constraints:
    family="[a-z][a-z0-9_]*",
    variant="[a-z-]+",
    split="train|dev|test",


def variant_files(family, variant):
    return expand(
        "data/variants/{family}/{variant}/{split}.tsv",
        family=family,
        variant=variant,
        split=SPLITS,
    )


def all_targets():
    return [f for fam in FAMILIES for var in VARIANTS for f in variant_files(fam, var)]
