"""The repeats stage: the extra studies of one compared series (other HPO seeds), each run
with its cost (CPU and wall seconds) recorded beside its results."""

from __future__ import annotations

import time
from pathlib import Path

from nerhpo.atomic import atomic_write_json
from nerhpo.process_cpu import tree_cpu_seconds
from nerhpo.stages import make_study


def run_costed(study) -> dict:
    """Run a study and write ``cost.json`` beside its results: wall seconds and the CPU seconds
    of this process tree while it ran (Ray's workers included)."""
    from nerhpo.hpo import run_study

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
    from nerhpo.compare import extra_repeats, repeat_seed, study_dir

    done = []
    for k in extra_repeats(params, family, variant, algorithm):
        out = study_dir(params, family, variant, algorithm, k, results)
        seed = repeat_seed(params["seed"], k)
        study = make_study(params, family, variant, algorithm, data_dir, model_dir, out, seed=seed)
        summary = run_costed(study)
        done.append({"repeat": k, "seed": seed, "dir": str(out), **summary})
    return {"family": family, "variant": variant, "algorithm": algorithm, "repeats": done}
