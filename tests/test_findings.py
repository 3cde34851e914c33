"""Findings on constructed trials: importance finds the one parameter that matters, border
flags, heat-map tables, failures, the winner's wording, and the script end to end."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nerhpo.analysis import findings

ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "learning_rate": {"type": "loguniform", "low": 0.0005, "high": 0.004},
    "weight_decay": {"type": "uniform", "low": 0.0, "high": 0.1},
    "warmup_ratio": {"type": "uniform", "low": 0.0, "high": 0.2},
    "attention_dropout": {"type": "uniform", "low": 0.0, "high": 0.2},
    "hidden_dropout": {"type": "uniform", "low": 0.0, "high": 0.2},
    "batch_size": {"type": "choice", "values": [8, 16, 32]},
}
COLUMNS = [
    "trial_id",
    "status",
    "epochs",
    "best_dev_f1",
    "learning_rate",
    "weight_decay",
    "warmup_ratio",
    "attention_dropout",
    "hidden_dropout",
    "batch_size",
    "wall_seconds",
    "error",
]


def make_trials(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """F1 depends on the learning rate only (peak at 1e-3); everything else is noise."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(math.log10(0.0005), math.log10(0.004), n)
    frame = pd.DataFrame(
        {
            "trial_id": [f"t{i:02d}" for i in range(n)],
            "status": "TERMINATED",
            "epochs": 8,
            "best_dev_f1": 0.9 - (np.log10(lr) + 3) ** 2,
            "learning_rate": lr,
            "weight_decay": rng.uniform(0, 0.1, n),
            "warmup_ratio": rng.uniform(0, 0.2, n),
            "attention_dropout": rng.uniform(0, 0.2, n),
            "hidden_dropout": rng.uniform(0, 0.2, n),
            "batch_size": rng.choice([8, 16, 32], n),
            "wall_seconds": 10.0,
            "error": "",
        }
    )
    return frame[COLUMNS]


def with_failure(frame: pd.DataFrame) -> pd.DataFrame:
    failed = frame.iloc[[0]].copy()
    failed[["trial_id", "status", "best_dev_f1", "error"]] = ["bad", "ERROR", np.nan, "OOM"]
    return pd.concat([frame, failed], ignore_index=True)


@pytest.fixture(scope="module")
def trials():
    return make_trials()


def test_importance_ranks_learning_rate_first(trials):
    imp = findings.importance(with_failure(trials), SPACE, seed=0, n_bootstrap=2, n_trees=16)
    assert list(imp.columns) == ["param", "importance", "std"]
    assert imp.iloc[0]["param"] == "learning_rate"
    assert imp.iloc[0]["importance"] > 0.6
    assert imp["importance"].sum() == pytest.approx(1.0)
    assert imp.attrs["n"] == 40  # the failed trial is left out
    again = findings.importance(trials, SPACE, seed=0, n_bootstrap=2, n_trees=16)
    pd.testing.assert_frame_equal(imp, again)  # deterministic for a seed


def test_importance_too_few_trials_gives_a_message(trials):
    imp = findings.importance(trials.head(3), SPACE)
    assert imp.empty
    assert "3 finished" in imp.attrs["message"]


def test_importance_accepts_values_outside_the_range(trials):
    wide = trials.copy()
    wide.loc[0, "learning_rate"] = 0.01  # PBT can perturb beyond the range
    wide.loc[1, "batch_size"] = 64
    imp = findings.importance(wide.head(10), SPACE, seed=1, n_bootstrap=0, n_trees=8)
    assert set(imp["param"]) == set(SPACE)


def test_border_check_flags_edges_with_suggestions():
    best = {
        "family": "original",
        "train_variant": "cased",
        "algorithm": "asha",
        "config": {
            "learning_rate": 0.0039,  # high edge (log scale)
            "weight_decay": 0.05,  # middle
            "warmup_ratio": 0.195,  # high edge
            "attention_dropout": 0.1,
            "hidden_dropout": 0.001,  # low edge, already at 0
            "batch_size": 16,  # middle choice
        },
    }
    flags = {f["param"]: f for f in findings.border_check([best], SPACE)}
    assert set(flags) == {"learning_rate", "warmup_ratio", "hidden_dropout"}
    lr = flags["learning_rate"]
    assert lr["bound"] == "high" and lr["bound_value"] == 0.004
    assert lr["study"] == "original/cased/asha"
    assert lr["suggested"][0] == 0.0005
    assert lr["suggested"][1] == pytest.approx(0.004 * 8**0.5)
    assert flags["warmup_ratio"]["suggested"] == pytest.approx([0.0, 0.3])
    assert flags["hidden_dropout"]["bound"] == "low"
    assert (
        flags["hidden_dropout"]["suggested"] is None and "limit" in flags["hidden_dropout"]["note"]
    )


def test_border_check_low_side_and_choices():
    space = {**SPACE, "weight_decay": {"type": "uniform", "low": 0.02, "high": 0.1}}
    config = {"learning_rate": 0.00052, "weight_decay": 0.021, "batch_size": 32}
    flags = {f["param"]: f for f in findings.border_check([config], space)}
    assert flags["learning_rate"]["bound"] == "low"
    assert flags["learning_rate"]["suggested"] == pytest.approx([0.0005 / 8**0.5, 0.004])
    assert flags["weight_decay"]["suggested"] == pytest.approx([0.0, 0.1])  # clipped at 0
    assert flags["batch_size"]["bound"] == "high"
    assert flags["batch_size"]["suggested"] == [8, 16, 32, 64]
    middle = {"learning_rate": 0.0014, "weight_decay": 0.06, "batch_size": 16}
    assert findings.border_check([middle], space) == []


def test_patterns_tables_and_failures(trials):
    pats = findings.patterns(with_failure(trials))
    assert pats["lr_batch"].shape == (4, 3)
    assert list(pats["lr_batch"].columns) == [8, 16, 32]
    assert pats["lr_warmup"].shape == (4, 4)
    assert pats["lr_batch_n"].to_numpy().sum() == 40
    assert pats["lr_warmup_n"].to_numpy().sum() == 40
    assert [f["trial_id"] for f in pats["failures"]] == ["bad"]
    assert pats["failures"][0]["error"] == "OOM"
    assert pats["failures"][0]["batch_size"] == trials.loc[0, "batch_size"]


def bests(values: dict[str, list[float]]) -> list[dict]:
    variants = ["cased", "uncased", "uncased-cased-mix"]
    return [
        {"family": "original", "train_variant": v, "algorithm": a, "dev_f1": f, "config": {}}
        for a, scores in values.items()
        for v, f in zip(variants, scores)
    ]


def test_markdown_names_winner_with_mean_and_std(trials):
    frame = with_failure(trials).assign(family="original", variant="cased", algorithm="asha")
    best = bests({"asha": [0.60, 0.62, 0.64], "pbt": [0.50, 0.70, 0.55]})
    imp = findings.importance(trials, SPACE, seed=0, n_bootstrap=2, n_trees=8)
    text = findings.findings_markdown(
        frame, best, imp, [], findings.patterns(frame), test_scores={"original/cased/asha": 0.5}
    )
    assert text.startswith("## Findings")
    assert "`asha` has the highest mean best dev F1" in text
    assert "0.6200 ± 0.0200 (n=3)" in text
    assert "not distinguishable from seed/trial noise on this evidence" in text
    assert "`learning_rate`" in text and "1 of 41 trials failed" in text
    assert "0.5000 (n=1, no spread)" in text  # test F1 reported, not chosen by

    clear = findings.findings_markdown(
        frame, bests({"asha": [0.80, 0.81, 0.82], "pbt": [0.60, 0.61, 0.62]}), imp, [], {}
    )
    assert "not distinguishable" not in clear and "exceeds the larger std" in clear
    assert "beat `pbt` in 3 of 3 studies" in clear
    assert "exported the same configuration" not in clear  # configs unknown ({}), not equal

    # ASHA and PBT draw the same seeded first trials; when the same one wins, say so
    twins = bests({"asha": [0.80, 0.81, 0.82], "pbt": [0.80, 0.81, 0.70]})
    for b in twins:
        b["config"] = {"learning_rate": 1e-3 if b["dev_f1"] != 0.70 else 2e-3}
    text = findings.findings_markdown(frame, twins, imp, [], {})
    assert "beat `pbt` in 1 of 3 studies. In 2 of 3 they exported the same configuration" in text


def load_script():
    spec = importlib.util.spec_from_file_location(
        "findings_script", ROOT / "workflow" / "scripts" / "findings.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_fixture(tmp_path: Path) -> tuple[Path, Path]:
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["hpo"].update(
        families=["original"],
        train_variants=["cased"],
        algorithms=["asha", "pbt"],
        repeats=1,  # the comparison is the main studies themselves, without re-training
        retrain_seeds=0,
        compare={"families": ["original"], "train_variants": ["cased"], "algorithms": ["asha"]},
    )
    params["sprint"]["enabled"] = False
    params["objectives"]["enabled"] = False
    params["casing_seeds"]["seeds"] = 0
    params["hpo"]["search_space"] = SPACE
    params_path = tmp_path / "params.yaml"
    params_path.write_text(yaml.safe_dump(params), encoding="utf-8")
    results = tmp_path / "results"
    for k, algorithm in enumerate(["asha", "pbt"]):
        study = results / "hpo" / "original" / "cased" / algorithm
        study.mkdir(parents=True)
        frame = make_trials(n=8, seed=k)
        if algorithm == "pbt":
            frame = with_failure(frame)
        frame.to_csv(study / "trials.csv", index=False)
        top = frame.loc[frame["best_dev_f1"].idxmax()]
        best = {
            "family": "original",
            "train_variant": "cased",
            "algorithm": algorithm,
            "trial_id": top["trial_id"],
            "dev_f1": float(top["best_dev_f1"]),
            "epoch": 8,
            "config": {h: top[h].item() for h in SPACE},
        }
        (study / "best.json").write_text(json.dumps(best), encoding="utf-8")
        summary = {"trials": len(frame), "epochs": int(frame["epochs"].sum()), "wall_seconds": 1}
        (study / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
        write_eval(results, algorithm, 0.8 + 0.01 * k)
    return params_path, results


def write_eval(results: Path, algorithm: str, f1: float) -> None:
    """The study's evaluation file (the casing part of the findings reads it)."""
    per_variant = {"cased": f1, "uncased": f1 - 0.2}
    scores = {
        split: {
            v: {"f1": x, "per_type": {"PER": {"f1": x, "support": 5}}}
            for v, x in per_variant.items()
        }
        for split in ("dev", "test")
    }
    # the cased-trained model on the lowercased copy truecased first
    route = {
        "scores": {split: {"f1": f1 - 0.05} for split in ("dev", "test")},
        "token_accuracy": {split: {"accuracy": 0.97} for split in ("dev", "test")},
    }
    path = results / "eval" / "original" / "cased" / f"{algorithm}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"scores": scores, "routes": {"uncased+truecase": route}}
    path.write_text(json.dumps(data), encoding="utf-8")
    # what it found on cased text and missed on the lowercased copy
    missed = {
        "sentences": 3,
        "by_type": {"PER": {"gold": 5, "found_cased": 4, "found_uncased": 2, "missed_uncased": 2}},
        "missed": [{"type": "PER", "text": "Anna Berg", "count": 2}],
    }
    errors = {
        "family": "original",
        "train_variant": "cased",
        "algorithm": algorithm,
        "compared": ["cased", "uncased"],
        "splits": {"dev": missed, "test": missed},
    }
    path = results / "errors" / "original" / "cased" / f"{algorithm}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(errors), encoding="utf-8")


def test_script_writes_outputs(tmp_path):
    from nerhpo.core import cli

    params_path, results = write_fixture(tmp_path)
    out = tmp_path / "findings"
    args = Namespace(params=str(params_path), results=str(results), out=str(out), margin=0.1)
    cli.run(load_script().main, args)
    names = {"findings.md", "importance.csv", "border.json", "comparison.json", "casing.json"} | {
        "casing.png",
        "compare_anytime.png",
        "compare_retrain.png",
        "importance.png",
        "lr_batch_heatmap.png",
        "lr_warmup_heatmap.png",
    }
    assert names <= {p.name for p in out.iterdir()}
    text = (out / "findings.md").read_text(encoding="utf-8")
    assert "has the highest mean best dev F1" in text and "bad" in text
    assert "Winner on the mean best dev F1 of study: `asha`" in text
    assert "only compared algorithm" in text
    assert text.index("### All main studies") < text.index("### Casing robustness")
    assert text.index("### Casing robustness") < text.index("### Hyperparameter importance")
    # the cased models on truecased text, and what they miss on lowercased text
    assert "#### Truecasing the lowercased text first" in text and "uncased+truecase" in text
    assert "#### What the cased-trained models miss on lowercased text" in text
    assert "| Anna Berg " in text
    summary = json.loads((out / "errors.json").read_text())
    assert summary["original"]["splits"]["dev"]["top_missed"][0]["count"] == 4  # 2 models x 2
    rows = json.loads((out / "truecase.json").read_text())["rows"]
    assert [r["algorithm"] for r in rows] == ["asha", "pbt"]
    assert rows[0]["dev_truecased"] == pytest.approx(0.75)
    assert list(pd.read_csv(out / "importance.csv").columns) == ["param", "importance", "std"]
    assert json.loads((out / "border.json").read_text())["margin"] == 0.1
    first = (out / "importance.png").read_bytes()
    cli.run(load_script().main, args)
    assert (out / "importance.png").read_bytes() == first  # same results, same bytes

    (results / "eval" / "original" / "cased" / "pbt.json").unlink()
    with pytest.raises(SystemExit, match="error: missing input file .*eval/original/cased/pbt"):
        cli.run(load_script().main, args)
    (results / "hpo" / "original" / "cased" / "pbt" / "best.json").unlink()
    with pytest.raises(SystemExit, match="error: missing input file .*pbt/best.json"):
        cli.run(load_script().main, args)


def test_script_help():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "workflow" / "scripts" / "findings.py"), "--help"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    for flag in ("--params", "--results", "--out", "--margin"):
        assert flag in proc.stdout
