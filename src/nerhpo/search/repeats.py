"""The repeated studies of a compared series: repeat k runs with HPO seed params seed + k
(repeat 0 of a main study is that study), and its best configuration is re-trained with
training seeds params seed + 1000 + j. Each extra repeat records its cost beside its results."""

from __future__ import annotations

import time
from pathlib import Path

from nerhpo.core import layout
from nerhpo.core.atomic import atomic_write_json
from nerhpo.core.layout import under
from nerhpo.core.process_cpu import tree_cpu_seconds
from nerhpo.search.study import make_study

RETRAIN_SEED_OFFSET = 1000


# -- which studies, where, with which seeds ---------------------------------------------------
def repeat_seed(seed: int, k: int) -> int:
    """The HPO seed of repeat ``k`` (repeat 0 keeps the params seed, as the main studies do)."""
    return int(seed) + int(k)


def retrain_seed(seed: int, j: int) -> int:
    """Training seed ``j`` for re-training a chosen configuration (never an HPO seed)."""
    return int(seed) + RETRAIN_SEED_OFFSET + int(j)


def is_main(params: dict, family: str, variant: str, algorithm: str) -> bool:
    hpo = params["hpo"]
    return (
        family in hpo["families"]
        and variant in hpo["train_variants"]
        and algorithm in hpo["algorithms"]
    )


def study_dir(
    params: dict, family: str, variant: str, algorithm: str, k: int, results: str | Path = "results"
) -> Path:
    """Repeat ``k`` of a study: the main study for k = 0 where there is one, else results/repeats."""
    study = {"family": family, "variant": variant, "algorithm": algorithm}
    if k == 0 and is_main(params, family, variant, algorithm):
        return under(results, layout.STUDY_DIR, **study)
    return under(results, layout.REPEAT_DIR, **study, k=k)


def extra_repeats(params: dict, family: str, variant: str, algorithm: str) -> list[int]:
    """The repeats the repeat stage trains (all but an existing main study)."""
    return [
        k
        for k in range(int(params["hpo"]["repeats"]))
        if not (k == 0 and is_main(params, family, variant, algorithm))
    ]


def compared(params: dict) -> list[tuple[str, str, str]]:
    """(family, variant, algorithm) of every compared study series."""
    c = params["hpo"]["compare"]
    return [(f, v, a) for f in c["families"] for v in c["train_variants"] for a in c["algorithms"]]


def run_costed(study) -> dict:
    """Run a study and write ``cost.json`` beside its results: wall seconds and the CPU seconds
    of this process tree while it ran (Ray's workers included)."""
    from nerhpo.search.runner import run_study

    cpu, wall = tree_cpu_seconds(), time.time()
    summary = run_study(study)
    cost = {
        "cpu_seconds": round(tree_cpu_seconds() - cpu, 1),
        "wall_seconds": round(time.time() - wall, 1),
        "seed": study.seed,
    }
    atomic_write_json(Path(study.out_dir) / "cost.json", cost)
    return {**summary, **cost}


def run_repeats(
    params: dict, family: str, variant: str, algorithm: str, data_dir, model_dir, results="results"
) -> dict:
    """The extra repeats of one compared study series (repeat k: HPO seed params seed + k)."""

    done = []
    for k in extra_repeats(params, family, variant, algorithm):
        out = study_dir(params, family, variant, algorithm, k, results)
        seed = repeat_seed(params["seed"], k)
        study = make_study(params, family, variant, algorithm, data_dir, model_dir, out, seed=seed)
        summary = run_costed(study)
        done.append({"repeat": k, "seed": seed, "dir": str(out), **summary})
    return {"family": family, "variant": variant, "algorithm": algorithm, "repeats": done}
