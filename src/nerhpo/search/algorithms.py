"""The HPO algorithms: a searcher and a scheduler of Ray Tune for each algorithm name."""

from __future__ import annotations

from nerhpo.search.space import CONTINUOUS
from nerhpo.search.study import ALGORITHMS


def search_parts(algorithm: str, hpo: dict, space: dict, seed: int):
    """(search algorithm, scheduler) for an algorithm name."""
    from ray.tune.schedulers import (
        ASHAScheduler,
        FIFOScheduler,
        HyperBandForBOHB,
    )
    from ray.tune.search.basic_variant import BasicVariantGenerator

    from nerhpo.search.ray_compat import Population, ResumableBOHB, ResumableOptunaSearch, SeededPBT

    max_t = hpo["max_epochs"]
    # Tune ignores max_concurrent_trials for a SearchAlgorithm; the generator must limit itself
    random_search = BasicVariantGenerator(random_state=seed, max_concurrent=hpo["concurrency"])
    if algorithm in ("asha", "tpe"):
        asha = hpo[algorithm]
        scheduler = ASHAScheduler(
            time_attr="training_iteration",
            max_t=max_t,
            grace_period=asha["grace_period"],
            reduction_factor=asha["reduction_factor"],
        )
    if algorithm == "asha":
        return random_search, scheduler
    if algorithm in ("random", "grid"):
        return random_search, FIFOScheduler()
    if algorithm == "bohb":
        return ResumableBOHB(seed=seed), HyperBandForBOHB(
            time_attr="training_iteration",
            max_t=max_t,
            reduction_factor=hpo["bohb"]["reduction_factor"],
        )
    if algorithm == "pbt":
        pbt = hpo["pbt"]
        mutations = {k: v for k, v in space.items() if k in CONTINUOUS}
        # the whole population exists from the start: PBT exploits only between live trials.
        # The study's own Ray (init_ray) runs `concurrency` of them at a time and they take
        # turns. Synchronous: every trial reaches a perturbation point before any exploits, so
        # scores of the same epoch are compared. The asynchronous variant compared a trial with
        # one paused an epoch behind, cloned it, went back an epoch, and on tied scores (a tiny
        # model at dev F1 0.0) did so forever while the donor never ran again (seen in CI)
        population = Population(random_state=seed, max_concurrent=0)
        return population, SeededPBT(
            seed,
            time_attr="training_iteration",
            perturbation_interval=pbt["perturbation_interval"],
            quantile_fraction=pbt["quantile_fraction"],
            resample_probability=pbt["resample_probability"],
            hyperparam_mutations=mutations,
            synch=True,
        )
    if algorithm in ("tpe", "gp"):
        import optuna

        sampler = (
            optuna.samplers.TPESampler(seed=seed)
            if algorithm == "tpe"
            else optuna.samplers.GPSampler(seed=seed)
        )
        search = ResumableOptunaSearch(sampler=sampler)
        return search, scheduler if algorithm == "tpe" else FIFOScheduler()
    raise ValueError(f"unknown HPO algorithm {algorithm!r}; expected one of {ALGORITHMS}")
