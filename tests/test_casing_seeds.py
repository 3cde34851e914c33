"""The seed spread of the casing robustness: means, sds, drops and the verdict, by hand."""

import json

import pytest

from nerhpo.analysis import casing_seeds


def retrained(variant, runs, algorithm="asha"):
    return {
        "family": "original",
        "train_variant": variant,
        "algorithm": algorithm,
        "config": {"learning_rate": 0.001},
        "seeds": [1042, 1043, 1044][: len(runs)],
        "runs": [
            {
                "train_seconds": 10.0,
                "eval_seconds": 2.0,
                "scores": {
                    split: {"cased": c, "uncased": u, "ne-lower": n} for split in ("dev", "test")
                },
            }
            for c, u, n in runs
        ],
    }


def test_means_sds_and_drops_by_hand():
    loaded = [
        retrained("cased", [(0.80, 0.40, 0.50), (0.84, 0.44, 0.52), (0.82, 0.42, 0.48)]),
        retrained(
            "uncased-cased-mix", [(0.78, 0.74, 0.75), (0.80, 0.76, 0.77), (0.79, 0.72, 0.73)]
        ),
    ]
    cased, mix = casing_seeds.compute(loaded)
    assert cased["dev"]["cased"]["mean"] == pytest.approx(0.82)
    assert cased["dev"]["cased"]["std"] == pytest.approx(0.02)
    assert cased["dev"]["cased"]["n"] == 3
    assert cased["dev_drops"]["uncased"]["mean"] == pytest.approx(0.40)
    assert cased["dev_drops"]["uncased"]["std"] == pytest.approx(0.0, abs=1e-12)
    assert cased["dev_worst"]["mean"] == pytest.approx(0.42)
    assert mix["dev_worst"]["mean"] == pytest.approx((0.74 + 0.76 + 0.72) / 3)
    assert cased["seconds"] == pytest.approx(36.0)
    text = casing_seeds.markdown([cased, mix])
    assert "re-trained with 3 training seeds" in text and "1.2 minutes" in text
    assert "| original | cased " in text.replace("  ", " ").replace("  ", " ")
    assert "0.820 ± 0.020" in text
    assert "`uncased-cased-mix` has the best worst case over the seeds (0.740 ± 0.020)" in text
    assert "more than the larger seed sd" in text
    assert "Its configuration (the best main study's, `asha`): learning_rate 0.001." in text
    json.dumps(casing_seeds.to_json([cased, mix]))  # JSON-ready


def test_a_lead_within_the_seed_sd_is_not_called():
    loaded = [
        retrained("cased", [(0.80, 0.70, 0.75), (0.84, 0.60, 0.70)]),
        retrained("uncased", [(0.78, 0.66, 0.70), (0.80, 0.66, 0.70)]),
    ]
    text = casing_seeds.markdown(casing_seeds.compute(loaded))
    assert "within the seed sd: not distinguishable" in text


def test_no_seeds_no_part(tmp_path):
    assert casing_seeds.markdown(casing_seeds.compute([retrained("cased", [])])) == ""
    params = {
        "casing_seeds": {"families": ["original"], "seeds": 0},
        "hpo": {"train_variants": ["cased"]},
    }
    assert casing_seeds.load(tmp_path, params) == []
    params["casing_seeds"]["seeds"] = 2
    with pytest.raises(casing_seeds.CasingSeedsError, match="casing_seeds/original/cased.json"):
        casing_seeds.load(tmp_path, params)
