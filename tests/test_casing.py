"""Casing robustness on hand-made evaluation files whose answer is computed by hand: means, sds,
drops, worst cases, the price of robustness, the noise verdict in both directions, a run with
one family and one training variant, the figure's bytes, and the finished demo run's files."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from nerhpo.analysis import casing

SQRT2 = math.sqrt(2)

# dev F1 per (training variant, algorithm) on each evaluation variant; test = dev - 0.01
DEV = {
    ("cased", "asha"): {"uncased": 0.60, "ne-lower": 0.70, "cased": 0.90},
    ("cased", "bohb"): {"uncased": 0.64, "ne-lower": 0.72, "cased": 0.88},
    ("uncased-cased-mix", "asha"): {"uncased": 0.84, "ne-lower": 0.85, "cased": 0.85},
    ("uncased-cased-mix", "bohb"): {"uncased": 0.82, "ne-lower": 0.83, "cased": 0.83},
}
# dev F1 per type of the cased-trained models: (on cased, on uncased)
TYPES = {
    "asha": {"PER": (0.95, 0.85), "ORG": (0.90, 0.50)},
    "bohb": {"PER": (0.93, 0.83), "ORG": (0.88, 0.56)},
}


def eval_json(dev: dict[str, float], types: dict | None = None) -> dict:
    """An evaluation file as evaluate.py writes it (only the fields the casing part reads)."""

    def score(variant: str, f1: float, shift: float) -> dict:
        per_type = {
            name: {"f1": pair[0 if variant == "cased" else 1] - shift, "support": 10}
            for name, pair in (types or {}).items()
        }
        return {"f1": f1 - shift, "per_type": per_type}

    return {
        "scores": {
            split: {v: score(v, f1, shift) for v, f1 in dev.items()}
            for split, shift in (("dev", 0.0), ("test", 0.01))
        }
    }


def write_results(tmp_path: Path, family: str = "original", dev: dict = DEV) -> Path:
    results = tmp_path / "results"
    for (train, algorithm), scores in dev.items():
        types = TYPES.get(algorithm) if train == "cased" else None
        path = results / "eval" / family / train / f"{algorithm}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(eval_json(scores, types)), encoding="utf-8")
    return results


def write_retrain(results: Path, runs: list[list[float]]) -> dict:
    """A re-training file of the comparison; returns the params that point at it."""
    studies = [
        {"repeat": k, "runs": [{"dev_f1": v, "test_f1": v} for v in group]}
        for k, group in enumerate(runs)
    ]
    path = results / "retrain" / "original" / "cased" / "asha.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"studies": studies}), encoding="utf-8")
    compare = {"families": ["original"], "train_variants": ["cased"], "algorithms": ["asha"]}
    return {"seed": 42, "hpo": {"retrain_seeds": 2, "compare": compare}}


def load(results: Path, variants=("cased", "uncased-cased-mix"), algorithms=("asha", "bohb")):
    return casing.load_evals(results, ["original"], list(variants), list(algorithms))


def cell(frame, **where):
    for key, value in where.items():
        frame = frame[frame[key] == value]
    assert len(frame) == 1, where
    return frame.iloc[0]


def test_means_sds_drops_worst_price_by_hand(tmp_path):
    results = write_results(tmp_path)
    params = write_retrain(results, [[0.80, 0.82], [0.70, 0.72]])
    noise = casing.load_seed_noise(results, params)
    # pooled: each group squares 2 x 0.01^2, 2 degrees of freedom: sqrt(0.0004 / 2)
    assert noise["std"] == pytest.approx(math.sqrt(0.0002)) and noise["dof"] == 2
    assert noise["runs"] == 4 and noise["pairs"] == ["original/cased"]
    result = casing.compute(load(results), noise)
    assert result["eval_variants"] == ["cased", "uncased", "ne-lower"]  # the pipeline's order

    summary = result["summary"]
    c = cell(summary, split="dev", train_variant="cased", eval_variant="cased")
    assert (c["mean"], c["sd"], c["n"]) == (pytest.approx(0.89), pytest.approx(0.02 / SQRT2), 2)
    u = cell(summary, split="dev", train_variant="cased", eval_variant="uncased")
    assert (u["mean"], u["sd"]) == (pytest.approx(0.62), pytest.approx(0.04 / SQRT2))
    t = cell(summary, split="test", train_variant="cased", eval_variant="uncased")
    assert t["mean"] == pytest.approx(0.61)

    drops = result["drops"]
    d = cell(drops, split="dev", train_variant="cased", to="uncased")  # 0.30 and 0.24
    assert (d["drop"], d["sd"], d["se"]) == (
        pytest.approx(0.27),
        pytest.approx(0.06 / SQRT2),
        pytest.approx(0.03),
    )
    assert d["exceeds"] and d["noise"] == pytest.approx(0.06)  # 2 SE > seed std
    assert cell(drops, split="dev", train_variant="cased", to="ne-lower")["drop"] == (
        pytest.approx(0.18)  # 0.20 and 0.16
    )
    mix = cell(drops, split="dev", train_variant="uncased-cased-mix", to="uncased")
    assert (
        mix["drop"] == pytest.approx(0.01) and mix["exceeds"] is not None and not mix["exceeds"]
    )  # < seed std 0.0141

    worst = result["worst"]
    assert cell(worst, split="dev", train_variant="cased")["eval_variant"] == "uncased"
    w = cell(worst, split="dev", train_variant="uncased-cased-mix")
    assert (w["eval_variant"], w["mean"]) == ("uncased", pytest.approx(0.83))

    price = result["price"]
    p = cell(price, split="dev", train_variant="uncased-cased-mix", eval_variant="cased")
    assert (p["diff"], p["se"]) == (pytest.approx(-0.05), pytest.approx(math.sqrt(0.0002)))
    assert p["exceeds"]
    gain = cell(price, split="dev", train_variant="uncased-cased-mix", eval_variant="uncased")
    assert gain["diff"] == pytest.approx(0.21)
    gain = cell(price, split="dev", train_variant="uncased-cased-mix", eval_variant="ne-lower")
    assert gain["diff"] == pytest.approx(0.13)

    robust = cell(result["robust"], split="dev", family="original")
    assert (robust["train_variant"], robust["runner_up"]) == ("uncased-cased-mix", "cased")
    assert robust["diff"] == pytest.approx(0.21)
    assert robust["se"] == pytest.approx(math.sqrt(0.0001 + 0.0004)) and robust["exceeds"]

    types = result["types"][result["types"]["split"] == "dev"]
    assert list(types.sort_values("drop", ascending=False)["type"]) == ["ORG", "PER"]
    org = cell(types, type="ORG")  # 0.40 and 0.32
    assert (org["cased"], org["uncased"], org["drop"]) == (
        pytest.approx(0.89),
        pytest.approx(0.53),
        pytest.approx(0.36),
    )
    assert org["support"] == 10
    assert json.dumps(casing.to_json(result), allow_nan=False)  # strict JSON


def test_text_when_differences_exceed_the_noise(tmp_path):
    results = write_results(tmp_path)
    noise = casing.load_seed_noise(results, write_retrain(results, [[0.80, 0.82], [0.70, 0.72]]))
    text = casing.markdown(casing.compute(load(results), noise), figure="results/x/casing.png")
    assert text.startswith("### Casing robustness")
    assert "pooled std 0.0141 (2 degrees of freedom) of the comparison's 4 re-trainings" in text
    assert "score only their training variant's dev and test F1" in text
    assert (
        "training on `uncased-cased-mix` gives the highest worst-case dev F1, 0.8300 ± 0.0141 "
        "(n=2) on `uncased`; the next best, `cased`, falls to 0.6200 on `uncased`: lead 0.2100, "
        "larger than the noise (0.0447)"
    ) in text
    assert "price on cased text against the cased-trained models: -0.0500 (SE 0.0141)" in text
    assert "+0.2100 on uncased, larger than the noise" in text
    assert "| original     | cased             |   2 | 0.8900 ± 0.0141 |" in text
    assert "0.2700 ± 0.0424 *" in text  # the drop, marked as larger than the noise
    assert (
        "Drops on dev **not** larger than the noise: original/uncased-cased-mix to uncased" in text
    )
    assert "Most affected: `ORG` (drop 0.3600, support 10); least: `PER` (drop 0.1000" in text
    assert "0.9245 / 0.3446" in text and "D19-1650" in text and "D19-5531" in text
    assert "| half of the sentences lowercased" in text and "0.8300 / 0.8200" in text  # test F1
    assert "no German study of it is known to us" in text
    assert text.endswith("![casing robustness](results/x/casing.png)")


def test_text_when_differences_do_not_exceed_the_noise(tmp_path):
    results = write_results(tmp_path)
    noise = {"std": 0.3, "dof": 4, "runs": 6, "pairs": ["original/cased"]}
    text = casing.markdown(casing.compute(load(results), noise))
    assert "lead 0.2100, **not** larger than the noise (0.3000): not distinguishable" in text
    assert "-0.0500 (SE 0.0141), **not** larger than the noise (0.3000)" in text
    assert (
        "Differences on dev **not** larger than the noise: original/uncased-cased-mix to cased"
        in (text)
    )
    assert not re.search(r"\d \*", text)  # nothing marked as larger than the noise

    # one algorithm and no re-trainings: no spread at all, said so
    one = casing.compute(load(results, algorithms=("asha",)))
    text = casing.markdown(one)
    assert "no spread to judge it against" in text and "No re-trainings" in text
    assert "(n=1)" in text


def test_one_family_one_variant(tmp_path):
    dev = {k: v for k, v in DEV.items() if k[0] == "cased"}
    results = write_results(tmp_path, family="simple", dev=dev)
    evals = casing.load_evals(results, ["simple"], ["cased"], ["asha", "bohb"])
    result = casing.compute(evals)
    assert result["families"] == ["simple"] and result["train_variants"] == ["cased"]
    assert result["price"].empty
    text = casing.markdown(result)
    assert "`simple`: only `cased` was trained, so there is no other training variant" in text
    assert "its worst case (dev) is 0.6200 ± 0.0283 (n=2) on `uncased`" in text
    assert "Price of robustness: not computed" in text
    assert "`simple` (n=2):" in text  # the per-type table is still there
    assert "not trained" in text  # literature rows without a counterpart in this run
    path = casing.write_figure(result, tmp_path / "one")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figure_same_data_same_bytes(tmp_path):
    result = casing.compute(load(write_results(tmp_path)))
    first = casing.write_figure(result, tmp_path / "a")
    second = casing.write_figure(casing.compute(load(tmp_path / "results")), tmp_path / "b")
    assert first.name == "casing.png"
    assert first.read_bytes() == second.read_bytes()


def test_missing_evaluation_file_named(tmp_path):
    results = write_results(tmp_path)
    (results / "eval" / "original" / "cased" / "bohb.json").unlink()
    with pytest.raises(casing.CasingError, match=r"missing input file .*cased/bohb\.json"):
        load(results)
    params = {"seed": 42, "hpo": {"retrain_seeds": 2, "compare": {"families": ["original"]}}}
    params["hpo"]["compare"].update(train_variants=["cased"], algorithms=["asha"])
    with pytest.raises(casing.CasingError, match=r"missing input file .*retrain.*asha\.json"):
        casing.load_seed_noise(results, params)
    assert math.isnan(casing.load_seed_noise(results, {"hpo": {"retrain_seeds": 0}})["std"])
