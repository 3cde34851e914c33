"""The robustness-aware objective (hpo.objective own | mean | worst): its value, what identifies
a study under it, a real study scored on the worst variant, and the Findings' part on it."""

import json
import math
import subprocess
import sys

import pytest
import yaml
from project_copy import ROOT
from test_hpo import make_workdir, tiny_hpo_params

from nerhpo.analysis import objective as objective_part
from nerhpo.search.identity import saved_state_matches, study_fingerprint
from nerhpo.search.study import make_study, objective_value


def test_objective_values():
    scores = {"cased": 0.8, "uncased": 0.4, "ne-lower": 0.6}
    assert objective_value("own", scores, "cased") == 0.8
    assert objective_value("mean", scores, "cased") == pytest.approx(0.6)
    assert objective_value("worst", scores, "cased") == 0.4
    with pytest.raises(ValueError, match="unknown objective 'best'"):
        objective_value("best", scores, "cased")


@pytest.fixture
def two_variants(tmp_path):
    """A family with a cased and an uncased variant (no encoder: a hub name stands for it)."""
    from nerhpo.data.build import build_corpus, build_variant

    params = tiny_hpo_params()
    build_corpus(params["corpus"], params["seed"], tmp_path / "data/corpus")
    for variant in ("cased", "uncased"):
        out = tmp_path / f"data/variants/original/{variant}"
        build_variant(tmp_path / "data/corpus", {}, variant, 1, 0.5, out)
    params["variants"]["names"] = ["cased", "uncased"]
    return tmp_path, params


def study(root, params, objective=None, out="s"):
    overrides = {"objective": objective} if objective else None
    return make_study(
        params,
        "original",
        "cased",
        "asha",
        root / "data/variants/original/cased",
        "some/hub-model",
        root / out,
        hpo_overrides=overrides,
    )


def test_objective_own_keeps_the_fingerprint_a_study_had_before_objectives(two_variants):
    """A study under the default objective resumes its saved state: the key adds nothing."""
    root, params = two_variants
    own = study(root, params)
    assert own.objective == "own" and own.objective_dev_files == {}
    without_key = study(
        root, {**params, "hpo": {k: v for k, v in params["hpo"].items() if k != "objective"}}
    )
    assert study_fingerprint(own) == study_fingerprint(without_key)


def test_objective_worst_is_another_study_that_counts_the_other_dev_sets(two_variants, tmp_path):
    root, params = two_variants
    own, worst = study(root, params), study(root, params, "worst")
    assert worst.objective_dev_files == {"uncased": root / "data/variants/original/uncased/dev.tsv"}
    assert study_fingerprint(worst) not in (
        study_fingerprint(own),
        study_fingerprint(study(root, params, "mean")),
    )
    # a state saved by the own study is not the worst study's
    stamp = tmp_path / "study.fingerprint"
    stamp.write_text(study_fingerprint(own))
    assert saved_state_matches(stamp, own, study_fingerprint(own))
    assert not saved_state_matches(stamp, worst, study_fingerprint(worst))
    # the other variant's dev set is part of the worst study's identity, not of the own one's
    before = study_fingerprint(worst), study_fingerprint(own)
    dev = root / "data/variants/original/uncased/dev.tsv"
    dev.write_text(dev.read_text().replace("\n\n", "\n\n", 1) + "x\tO\n\n")
    assert study_fingerprint(worst) != before[0] and study_fingerprint(own) == before[1]


def side(objective, dev, config, wall=10.0, train=6.0, evaluation=1.0):
    return {
        "best": {"config": config, "epoch": 2, "dev_f1": min(dev.values())},
        "summary": {"wall_seconds": wall, "train_seconds": train, "eval_seconds": evaluation},
        "eval": {
            "scores": {
                split: {v: {"f1": f - (0.01 if split == "test" else 0.0)} for v, f in dev.items()}
                for split in ("dev", "test")
            }
        },
    }


def test_the_findings_part_sets_the_objectives_side_by_side():
    config = {
        "learning_rate": 0.001,
        "weight_decay": 0.01,
        "warmup_ratio": 0.1,
        "attention_dropout": 0.1,
        "hidden_dropout": 0.1,
        "batch_size": 16,
    }
    loaded = [
        {
            "family": "original",
            "train_variant": "cased",
            "algorithm": "asha",
            "objectives": ("own", "worst"),
            "studies": [
                side("own", {"cased": 0.85, "uncased": 0.60}, config),
                side(
                    "worst",
                    {"cased": 0.82, "uncased": 0.70},
                    {**config, "hidden_dropout": 0.2},
                    wall=12.0,
                    evaluation=2.0,
                ),
            ],
        }
    ]
    (row,) = objective_part.compute(loaded)
    assert row["main"]["dev_worst"] == 0.60 and row["main"]["dev_worst_variant"] == "uncased"
    assert row["other"]["dev_worst"] == 0.70
    assert row["diff"]["dev_worst"] == pytest.approx(0.10)
    assert row["diff"]["dev_cased"] == pytest.approx(-0.03)
    assert row["diff"]["test_worst"] == pytest.approx(0.10)
    assert row["changed"] == {"hidden_dropout": (0.1, 0.2)}
    assert row["eval_share"] == (pytest.approx(1 / 6), pytest.approx(2 / 6))
    assert row["wall_ratio"] == pytest.approx(1.2)
    text = objective_part.markdown([row], seed_std=0.02)
    assert "### Robustness-aware objective" in text
    assert "0.7000 (`uncased`) against 0.6000 (`uncased`)" in text
    assert "+0.1000 (beyond the training-seed sd of 0.0200)" in text
    assert "on cased dev text 0.8200 against 0.8500 (-0.0300)" in text
    assert "hidden_dropout 0.1 → 0.2" in text
    assert "1.20x the main studies'" in text
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| cased")
    ]
    assert rows == [
        ["cased", "own", "0.8500", "0.6000", "0.6000", "0.7250"],
        ["cased", "worst", "0.8200", "0.7000", "0.7000", "0.7600"],
    ]
    assert "not distinguishable" in objective_part.markdown([row], seed_std=0.5)
    assert "no seed noise measured" in objective_part.markdown([row], seed_std=math.nan)
    assert objective_part.markdown([]) == ""


@pytest.mark.slow
def test_a_study_scored_on_the_worst_variant_then_evaluated(tmp_path, monkeypatch):
    """objective.py: every epoch scores both dev sets, the trial's score is their minimum, the
    best model is the one best on it, and its evaluation agrees with what the trial reported."""
    monkeypatch.setenv("NERHPO_PRECISION", "fp32")
    from nerhpo.data.build import build_variant

    root = make_workdir(tmp_path)
    build_variant(
        root / "data/corpus", {}, "uncased", 1, 0.5, root / "data/variants/original/uncased"
    )
    params = tiny_hpo_params(hpo={"num_samples": 2, "max_epochs": 2})
    params["variants"]["names"] = ["cased", "uncased"]
    params["hpo"]["train_variants"] = ["cased"]
    params["objectives"].update(family="original", train_variants=["cased"], algorithm="asha")
    params["baseline"]["variant"] = "cased"
    params["hpo"]["compare"]["train_variants"] = ["cased"]
    params["sprint"]["enabled"] = False
    params["pretrain_hpo"]["probe"].update(family="original", variant="cased")
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    out = root / "results/objective/cased"
    cmd = [
        sys.executable,
        str(ROOT / "workflow/scripts/objective.py"),
        "--params",
        "params.yaml",
        "--family",
        "original",
        "--variant",
        "cased",
        "--algorithm",
        "asha",
        "--objective",
        "worst",
        "--data-root",
        "data/variants",
        "--threads",
        "1",
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    best = json.loads((out / "best.json").read_text())
    assert best["objective"] == "worst" and set(best["dev_f1_by_variant"]) == {"cased", "uncased"}
    assert best["dev_f1"] == min(best["dev_f1_by_variant"].values())
    import pandas as pd

    for progress in (out / "tune").glob("*/progress.csv"):
        rows = pd.read_csv(progress)
        assert (rows.dev_f1 == rows[["dev_f1_cased", "dev_f1_uncased"]].min(axis=1)).all()
    evaluation = json.loads((out / "eval.json").read_text())
    assert evaluation["objective"] == "worst" and evaluation["train_variant"] == "cased"
    for variant in ("cased", "uncased"):
        assert evaluation["scores"]["dev"][variant]["f1"] == pytest.approx(
            best["dev_f1_by_variant"][variant], abs=1e-9
        )
    # a second run finds the finished study and resumes it: no trial starts again
    again = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming the study" in again.stdout + again.stderr
    assert json.loads((out / "best.json").read_text()) == best
