"""The comparison's statistics and the sprint's narrowing on constructed inputs whose answer is
known: seeds and folders of repeats, mean/std/pooled noise, anytime bands and equal budgets,
the winner and the noise verdict, the narrowed search space and the data subset."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nerhpo.analysis import compare, sprint
from nerhpo.data.corpus import Sentence, read_corpus, write_corpus
from nerhpo.search import repeats

SPACE = {
    "learning_rate": {"type": "loguniform", "low": 0.0005, "high": 0.004},
    "weight_decay": {"type": "uniform", "low": 0.0, "high": 0.1},
    "batch_size": {"type": "choice", "values": [8, 16, 32]},
}


def params(**hpo):
    base = {
        "families": ["original", "simple"],
        "train_variants": ["cased"],
        "algorithms": ["asha", "bohb"],
        "repeats": 3,
        "retrain_seeds": 2,
        "num_samples": 4,
        "max_epochs": 8,
        "compare": {
            "families": ["simple"],
            "train_variants": ["cased"],
            "algorithms": ["asha", "random"],
        },
    }
    return {"seed": 42, "hpo": {**base, **hpo}}


def test_repeat_folders_and_seeds():
    p = params()
    assert repeats.study_dir(p, "simple", "cased", "asha", 0).as_posix() == (
        "results/hpo/simple/cased/asha"
    )  # repeat 0 of a main study is that study
    assert repeats.study_dir(p, "simple", "cased", "asha", 2).as_posix() == (
        "results/repeats/simple/cased/asha/r2"
    )
    assert repeats.study_dir(p, "simple", "cased", "random", 0).as_posix() == (
        "results/repeats/simple/cased/random/r0"
    )  # random is no main algorithm here
    assert repeats.extra_repeats(p, "simple", "cased", "asha") == [1, 2]
    assert repeats.extra_repeats(p, "simple", "cased", "random") == [0, 1, 2]
    assert [repeats.repeat_seed(42, k) for k in range(3)] == [42, 43, 44]
    assert repeats.retrain_seed(42, 1) == 1043
    assert repeats.compared(p) == [("simple", "cased", "asha"), ("simple", "cased", "random")]


def test_mean_std_and_pooled_noise():
    assert compare.mean_std([1.0, 2.0, 3.0]) == pytest.approx((2.0, 1.0, 3))
    mean, std, n = compare.mean_std([0.5, float("nan")])
    assert (mean, n) == (0.5, 1) and math.isnan(std)
    assert compare.pm([0.6, 0.62, 0.64]) == "0.6200 ± 0.0200 (n=3)"
    assert compare.pm([0.5]) == "0.5000 (n=1, no spread)"
    # two groups with within-group variance 1 and 4 (2 points each): pooled sqrt((1+4)/2)
    std, dof = compare.pooled_std([[0.0, math.sqrt(2)], [10.0, 10.0 + 2 * math.sqrt(2)], [7.0]])
    assert dof == 2 and std == pytest.approx(math.sqrt(2.5))
    assert math.isnan(compare.pooled_std([[1.0], []])[0])


def curve(points):
    epochs, best = zip(*points)
    return pd.DataFrame({"epochs": list(map(float, epochs)), "best": list(best)})


def test_curves_on_a_grid_bands_and_budget():
    a = curve([(1, 0.1), (2, 0.3), (4, 0.5)])  # stops after 4 epochs
    b = curve([(2, 0.2), (3, 0.2), (6, 0.7)])
    grid = [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(compare.curve_on_grid(a, grid), [0.1, 0.3, 0.3, 0.5, 0.5, 0.5])
    assert math.isnan(compare.curve_on_grid(b, [1])[0])
    assert compare.best_at_budget(b, 5) == pytest.approx(0.2)
    stats = compare.band([a, b], grid)
    np.testing.assert_allclose(stats["mean"], [0.1, 0.25, 0.25, 0.35, 0.35, 0.6])
    np.testing.assert_allclose(stats["low"], [0.1, 0.2, 0.2, 0.2, 0.2, 0.5])
    np.testing.assert_allclose(stats["high"], [0.1, 0.3, 0.3, 0.5, 0.5, 0.7])
    assert list(stats["n"]) == [1, 2, 2, 2, 2, 2]


def repeat(algorithm, k, best_dev, retrain_dev, epochs=16, exported=0.5):
    return compare.Repeat(
        "simple",
        "cased",
        algorithm,
        k,
        42 + k,
        best_dev,
        epochs,
        60.0,
        curve([(1, best_dev / 2), (epochs, best_dev)]),
        exported_test=exported,
        retrain_dev=list(retrain_dev),
        retrain_test=[v - 0.05 for v in retrain_dev],
    )


def test_winner_beyond_seed_noise():
    reps = [
        repeat("asha", 0, 0.82, [0.800, 0.810]),
        repeat("asha", 1, 0.83, [0.805, 0.815]),
        repeat("random", 0, 0.75, [0.700, 0.710], epochs=32),
        repeat("random", 1, 0.74, [0.705, 0.715], epochs=32),
    ]
    summary = compare.summarise(reps)
    assert list(summary["algorithm"]) == ["asha", "random"]
    assert summary.attrs["budget"] == 16  # the fewest epochs any study spent
    v = compare.verdict(summary, reps)
    assert v["winner"] == "asha" and v["runner_up"] == "random"
    assert v["gap"] == pytest.approx(0.8075 - 0.7075)
    assert v["seed_std"] == pytest.approx(0.01 / math.sqrt(2))  # every pair differs by 0.01
    assert v["exceeds_seed_noise"] and v["clear"]
    text = compare.markdown(params(repeats=2), reps)
    assert "Winner on the mean re-trained dev F1: `asha`" in text
    assert "larger than the training-seed noise" in text
    assert "0.8075 ± 0.0065 (n=4)" in text  # re-trained dev F1 of asha
    data = compare.to_json(reps)
    assert data["algorithms"]["asha"]["retrain_dev"]["n"] == 4
    assert data["verdict"]["winner"] == "asha"


def test_gap_within_seed_noise_is_not_a_winner_claim():
    reps = [
        repeat("asha", 0, 0.80, [0.70, 0.80]),
        repeat("random", 0, 0.80, [0.72, 0.76]),
    ]
    v = compare.verdict(compare.summarise(reps), reps)
    assert v["winner"] == "asha" and not v["exceeds_seed_noise"]
    text = compare.markdown(params(repeats=1), reps)
    assert "**not** larger than the training-seed noise" in text
    assert "cannot be told apart" in text


def test_identical_choices_are_named():
    reps = [
        repeat("asha", 0, 0.8, [0.80, 0.81]),
        repeat("pbt", 0, 0.8, [0.80, 0.81]),
        repeat("random", 0, 0.8, [0.80, 0.81]),
        repeat("bohb", 0, 0.7, [0.70, 0.71]),
    ]
    for r in reps:
        r.config = {"learning_rate": 0.002 if r.algorithm == "bohb" else 0.001}
    assert compare.identical_choices(reps) == [["asha", "pbt", "random"]]
    text = compare.markdown(params(repeats=1), reps)
    assert "`asha`, `pbt` and `random` chose identical best configurations in all 1 studies" in text
    reps[1].config = {"learning_rate": 0.003}
    assert compare.identical_choices(reps) == [["asha", "random"]]


def test_test_scores_never_choose():
    # random has the better test F1 but the worse dev F1: the winner follows dev
    reps = [repeat("asha", 0, 0.8, [0.80, 0.81]), repeat("random", 0, 0.7, [0.70, 0.71])]
    for r in reps:
        r.retrain_test = [0.9, 0.9] if r.algorithm == "random" else [0.1, 0.1]
    assert compare.verdict(compare.summarise(reps), reps)["winner"] == "asha"


def trials_table(rows):
    frame = pd.DataFrame(rows, columns=["trial_id", "best_dev_f1", *SPACE])
    frame["status"] = "TERMINATED"
    return frame


def test_narrow_space_known_answer():
    trials = trials_table(
        [
            ["t0", 0.80, 0.001, 0.05, 16],
            ["t1", 0.78, 0.002, 0.06, 16],
            ["t2", 0.10, 0.0039, 0.01, 32],  # bad: not among the kept
            ["t3", 0.70, 0.0015, 0.099, 8],  # weight decay at the top border
        ]
    )
    importances = pd.DataFrame(
        {"param": ["learning_rate", "batch_size", "weight_decay"], "importance": [0.9, 0.08, 0.02]}
    )
    new, notes = sprint.narrow_space(
        SPACE, trials, importances, keep=3, pad=0.1, min_importance=0.05
    )
    lr = new["learning_rate"]
    width = math.log(0.004) - math.log(0.0005)
    assert lr["low"] == pytest.approx(math.exp(math.log(0.001) - 0.1 * width))
    assert lr["high"] == pytest.approx(math.exp(math.log(0.002) + 0.1 * width))
    assert new["batch_size"] == {"type": "choice", "values": [8, 16]}
    assert new["weight_decay"] == SPACE["weight_decay"]  # not important: whole range
    assert "importance 0.020 < 0.05" in {n["param"]: n for n in notes}["weight_decay"]["why"]

    # without an importance, all are narrowed; the best value at a border extends that side
    trials.loc[3, "best_dev_f1"] = 0.9
    new, notes = sprint.narrow_space(
        SPACE, trials, pd.DataFrame(), keep=3, pad=0.0, min_importance=0.05
    )
    assert new["batch_size"]["values"] == [4, 8, 16]  # best at 8: one smaller value added
    assert new["learning_rate"]["low"] == pytest.approx(0.001)
    assert new["weight_decay"]["low"] == pytest.approx(0.05)
    assert new["weight_decay"]["high"] == pytest.approx(0.15)  # border check's suggestion
    assert "high bound (border)" in {n["param"]: n for n in notes}["weight_decay"]["why"]


def test_subset_data_is_seeded(tmp_path):
    src = tmp_path / "src"
    sentences = [Sentence([f"w{i}", "x"], ["B-PER", "O"]) for i in range(40)]
    for split in ("train", "dev", "test"):
        write_corpus(src / f"{split}.tsv", sentences)
    info = sprint.subset_data(src, tmp_path / "a", 0.25, 7)
    sprint.subset_data(src, tmp_path / "b", 0.25, 7)
    assert info["train_sentences"] == 10
    assert (tmp_path / "a/train.tsv").read_bytes() == (tmp_path / "b/train.tsv").read_bytes()
    assert len(read_corpus(tmp_path / "a/dev.tsv")) == 40  # dev stays whole
    assert (
        sprint.cheap_overrides(
            {"num_samples": 8, "max_epochs": 1},
            {
                "asha": {"grace_period": 2, "reduction_factor": 2},
                "tpe": {"grace_period": 2, "reduction_factor": 2},
                "pbt": {"perturbation_interval": 2, "quantile_fraction": 0.25},
            },
        )["asha"]["grace_period"]
        == 1
    )


def test_tree_cpu_seconds_counts_this_process():
    before = sprint.tree_cpu_seconds()
    sum(i * i for i in range(300_000))
    assert sprint.tree_cpu_seconds() >= before


def write_round(directory, best, trial_seconds, cpu=None, trials=4, epochs=16):
    import json

    directory.mkdir(parents=True)
    summary = {"trials": trials, "epochs": epochs, "best_dev_f1": best, "wall_seconds": 100.0}
    (directory / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame({"wall_seconds": [trial_seconds / 2, trial_seconds / 2]}).to_csv(
        directory / "trials.csv", index=False
    )
    if cpu is not None:
        (directory / "cost.json").write_text(json.dumps({"cpu_seconds": cpu}))


def test_sprint_rows_and_text(tmp_path):
    import json

    p = {
        "seed": 42,
        "hpo": {"num_samples": 4, "max_epochs": 8},
        "sprint": {
            "family": "simple",
            "variant": "cased",
            "algorithm": "asha",
            "data_fraction": 0.25,
            "num_samples": 8,
            "max_epochs": 2,
            "keep": 3,
            "pad": 0.1,
            "min_importance": 0.05,
        },
    }
    results = tmp_path / "results"
    write_round(results / "sprint/cheap", 0.30, 20.0, cpu=25.0, trials=8)
    write_round(results / "sprint/full", 0.62, 100.0, cpu=110.0)
    write_round(results / "hpo/simple/cased/asha", 0.60, 180.0)
    notes = [
        {
            "param": "learning_rate",
            "importance": 0.9,
            "original": [0.0005, 0.004],
            "narrowed": [0.001, 0.002],
            "why": "span",
        }
    ]
    (results / "sprint/space.json").write_text(json.dumps({"notes": notes}))
    data = sprint.load_sprint(p, results)
    cheap, full, both, single = data["rows"]
    assert both["trial_seconds"] == 120.0 and both["cpu_seconds"] == 135.0
    assert single["cpu_seconds"] is None  # the main study records no cost.json
    text = sprint.markdown(p, data, seed_std=0.01)
    assert "0.6200 against 0.6000" in text and "(difference +0.0200)" in text
    assert cheap["data_epochs"] == 4.0 and both["data_epochs"] == 20.0
    assert "1.25× its full-data epochs" in text  # (16 x 0.25 + 16) / 16
    assert "reached 0.3000 (50% of the single round's best)" in text
    assert "larger." in text  # 0.02 > the seed noise 0.01
    assert "**not** larger" in sprint.markdown(p, data, seed_std=0.05)
    assert "an anecdote" in sprint.markdown(p, data)
