"""The whole-study cost measurement (nerhpo.measure.study_cost, workflow/scripts/study_cost.py): the
projection's arithmetic on known figures, the scaled settings, and a real measurement at micro
scale through the stage scripts, its resume and its refusal of a work folder at other settings."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nerhpo.core.config import ParamsError
from nerhpo.measure.study_cost import Scale, cost_report, markdown, scaled_params

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "workflow/scripts/study_cost.py"
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def study(wall, train, evaluation, f1=0.5):
    return {
        "wall_seconds": wall,
        "train_seconds": train,
        "eval_seconds": evaluation,
        "trials": 20,
        "epochs": 31,
        "best_dev_f1": f1,
    }


def test_projection_counts_every_family_and_variant_and_the_gpus_held():
    scale = Scale()  # 4 trials at once x 0.25 GPU: one GPU per job
    scaled = scaled_params(PARAMS, scale)
    steps = {"corpus": 5.0, "hpo/asha": 100.0, "hpo/bohb": 110.0, "hpo/pbt": 150.0}
    studies = {"asha": study(95, 80, 5), "bohb": study(104, 90, 6), "pbt": study(140, 120, 9)}
    report = cost_report(steps, studies, scaled, PARAMS, scale)
    assert report["jobs_per_algorithm"] == 6  # 2 families x 3 training variants
    assert report["projected_jobs"] == 18
    assert report["projected_minutes"] == pytest.approx(6 * 360 / 60)
    assert report["projected_gpu_minutes"] == pytest.approx(36.0)
    assert report["target_met"] is True
    assert [r["gpu_seconds"] for r in report["studies"]] == [100.0, 110.0, 150.0]
    text = markdown(report)
    assert "the 18 HPO jobs (6 per algorithm)" in text and "36.0 GPU-minutes" in text
    assert "target 60: met" in text


def test_two_gpus_per_job_double_the_gpu_minutes_and_can_miss_the_target():
    scale = Scale(concurrency=4, gpus_per_trial=0.5)
    report = cost_report(
        {"hpo/pbt": 400.0},
        {"pbt": study(390, 300, 20)},
        scaled_params(PARAMS, scale),
        PARAMS,
        scale,
    )
    assert scale.gpus_per_job == 2
    assert report["projected_gpu_minutes"] == pytest.approx(6 * 400 * 2 / 60)
    assert report["target_met"] is False
    assert "not met" in markdown(report)


def test_a_cpu_measurement_reports_no_gpu_target():
    scale = Scale(gpus_per_trial=0, concurrency=1)
    report = cost_report(
        {"hpo/asha": 12.0}, {"asha": study(10, 4, 1)}, scaled_params(PARAMS, scale), PARAMS, scale
    )
    assert scale.gpus_per_job == 0
    assert "target_met" not in report and report["projected_minutes"] == pytest.approx(1.2)


def test_scaled_params_set_the_corpus_encoder_and_budget():
    p = scaled_params(PARAMS, Scale(max_epochs=2))
    assert p["corpus"]["demo"]["train_sentences"] == 24000
    assert p["model"]["scratch"]["hidden_size"] == 768
    assert p["model"]["scratch"]["num_layers"] == 12
    assert p["hpo"]["num_samples"] == 20 and p["hpo"]["max_epochs"] == 2
    assert p["hpo"]["gpus_per_job"] == 1 and p["hpo"]["gpus_per_trial"] == 0.25
    assert PARAMS["model"]["scratch"]["hidden_size"] == 128  # the input is not changed
    with pytest.raises(ValueError, match="size 'huge'"):
        scaled_params(PARAMS, Scale(size="huge"))
    with pytest.raises(ParamsError, match="num_samples"):
        scaled_params(PARAMS, Scale(trials=0))


def run(work: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--params", str(ROOT / "params.yaml"), "--work", str(work)]
        + ["--out", str(work / "cost.json"), "--size", "micro", "--train-sentences", "120"]
        + ["--dev-sentences", "30", "--trials", "2", "--max-epochs", "1", "--concurrency", "1"]
        + ["--gpus-per-trial", "0", "--algorithms", "asha", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


@pytest.mark.slow
def test_measures_a_real_study_resumes_and_refuses_other_settings(tmp_path):
    work = tmp_path / "work"
    first = run(work)
    assert first.returncode == 0, first.stderr
    report = json.loads((work / "cost.json").read_text())
    assert set(report["steps"]) == {"corpus", "variant", "pretrain", "hpo/asha"}
    (row,) = report["studies"]
    assert row["algorithm"] == "asha" and row["trials"] == 2
    # the job's time holds the study's, which holds its training and evaluation
    assert row["job_seconds"] > row["study_seconds"] > row["train_seconds"] + row["eval_seconds"]
    assert report["projected_jobs"] == 6
    assert report["projected_minutes"] == pytest.approx(6 * row["job_seconds"] / 60, abs=0.01)
    assert "| asha" in first.stdout and "6 per algorithm" in first.stdout
    assert len((work / "data/corpus/train.tsv").read_text().split("\n\n")) >= 120
    steps = json.loads((work / "steps.json").read_text())

    again = run(work)  # everything finished: every step is kept with its measured time
    assert again.returncode == 0, again.stderr
    assert json.loads((work / "cost.json").read_text())["steps"] == steps
    assert again.stderr.count("kept from an earlier run") == 4

    other = run(work, "--trials", "3")
    assert other.returncode == 1
    assert "holds a measurement at other settings" in other.stderr
    assert other.stderr.strip().count("\n") == 0  # one line


def test_script_has_help():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    )
    assert "--work" in out.stdout and "--gpus-per-trial" in out.stdout
