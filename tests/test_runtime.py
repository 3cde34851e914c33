"""Where a run's time went (nerhpo.analysis.runtime, workflow/scripts/runtime.py), on a made-up run whose
figures are known; the real Snakemake run is checked in test_pipeline_e2e."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "workflow/scripts/runtime.py"
BENCH_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def job(root: Path, name: str, seconds: float, end: float) -> None:
    """A Snakemake benchmark file of a job that took ``seconds`` and ended at ``end``."""
    path = root / "logs/benchmarks" / name
    write(path, BENCH_HEADER + f"{seconds}\t0:00:{int(seconds):02d}\t1\t1\t1\t1\t0\t0\t1\t1\n")
    os.utime(path, (end, end))


def summary(root: Path, study: str, train: float, evaluation: float) -> None:
    write(
        root / study / "summary.json",
        json.dumps({"train_seconds": train, "eval_seconds": evaluation, "wall_seconds": 99}),
    )


@pytest.fixture
def run_dir(tmp_path):
    """Two HPO jobs (20 s and 30 s, 35 s of work), one evaluation (10 s, 2 s of scoring), the
    corpus (1 s, no work) and pretraining (40 s, 36 s of work), from t=1000 to t=1070."""
    job(tmp_path, "corpus.tsv", 1.0, 1001.0)
    job(tmp_path, "pretrain.tsv", 40.0, 1041.0)
    job(tmp_path, "hpo/original/cased/asha.tsv", 20.0, 1061.0)
    job(tmp_path, "hpo/original/cased/pbt.tsv", 30.0, 1070.0)
    job(tmp_path, "eval/original/cased/asha.tsv", 10.0, 1070.0)
    summary(tmp_path, "results/hpo/original/cased/asha", 12.0, 3.0)
    summary(tmp_path, "results/hpo/original/cased/pbt", 18.0, 2.0)
    scores = {"dev": {"cased": {"seconds": 0.5}}, "test": {"cased": {"seconds": 1.5}}}
    write(tmp_path / "results/eval/original/cased/asha.json", json.dumps({"scores": scores}))
    write(tmp_path / "results/pretrained/pretrain.json", json.dumps({"train_seconds": 36.0}))
    return tmp_path


def test_runtime_sums_jobs_and_the_work_inside_them(run_dir):
    from nerhpo.analysis.runtime import runtime

    rt = runtime(run_dir)
    stages = rt.stages.set_index("stage")
    assert stages.loc["hpo"].tolist() == pytest.approx([2, 50.0, 35.0, 0.3])
    assert stages.loc["eval"].tolist() == pytest.approx([1, 10.0, 2.0, 0.8])
    assert stages.loc["pretrain"].tolist() == pytest.approx([1, 40.0, 36.0, 0.1])
    assert stages.loc["corpus"].tolist() == pytest.approx([1, 1.0, 0.0, 1.0])
    assert list(rt.stages.stage) == ["hpo", "pretrain", "eval", "corpus"]  # largest first
    # the first job started at 1000 (ended at 1001 after 1 s), the last ended at 1070
    assert rt.total() == {
        "jobs": 5,
        "job_seconds": 101.0,
        "work_seconds": 73.0,
        "other_share": pytest.approx(0.277, abs=1e-3),
        "wall_seconds": 70.0,
    }


def test_unrecorded_work_is_shown_as_unknown_not_as_zero(run_dir):
    """A pretraining from before train_seconds was recorded: left out of the share."""
    from nerhpo.analysis.runtime import markdown, runtime

    write(run_dir / "results/pretrained/pretrain.json", json.dumps({"seed": 42}))
    rt = runtime(run_dir)
    total = rt.total()
    assert total["work_seconds"] == 37.0 and total["job_seconds"] == 101.0
    assert total["other_share"] == round(1 - 37 / 61, 3)  # over the stages with figures
    text = markdown(rt)
    assert "| pretrain  |      1 |            40 |                         – |         – |" in text
    assert "Wall time, first job's start to last job's end: 1 min 10 s" in text
    assert "HPO jobs (hpo): 30.0% of their time is neither training nor evaluation." in text


def test_the_script_prints_json_and_fails_clearly_without_benchmarks(run_dir, tmp_path_factory):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(run_dir), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["total"]["jobs"] == 5
    assert {s["stage"]: s["work_seconds"] for s in result["stages"]}["hpo"] == 35.0
    empty = tmp_path_factory.mktemp("empty")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(empty)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 1
    assert f"{empty}/logs/benchmarks: no benchmark files" in out.stderr
    assert not out.stdout
