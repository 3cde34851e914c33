"""SIGKILL the whole Snakemake run (its process group) during the HPO stage, run it again: it
finishes, no finished trial is trained again, every trial is in trials.csv once, and the tables
equal those of an uninterrupted run with the same seeds."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from project_copy import make_copy, run
from test_pipeline_e2e import e2e_params, tables

pytestmark = pytest.mark.slow


def small_params():
    params = e2e_params()
    params["tag_families"] = {"original": {}}
    params["hpo"].update(
        families=["original"],
        train_variants=["cased"],
        algorithms=["asha", "random"],
        num_samples=4,
    )
    params["hpo"]["max_epochs"] = 3
    params["baseline"]["batch_sizes"] = [16]
    return params


def progress(root: Path) -> dict[str, int]:
    """Trial directory -> epochs recorded in its progress.csv."""
    out = {}
    for path in root.glob("results/hpo/*/*/*/tune/*/progress.csv"):
        try:
            out[str(path.parent.relative_to(root))] = len(pd.read_csv(path))
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            out[str(path.parent.relative_to(root))] = 0
    return out


def test_sigkill_pipeline_and_resume(tmp_path):
    reference = make_copy(tmp_path / "reference", small_params())
    run(["snakemake", "--cores", "2"], reference, timeout=900)

    root = make_copy(tmp_path / "killed", small_params())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    log = open(tmp_path / "killed.log", "w")
    proc = subprocess.Popen(
        ["snakemake", "--cores", "2"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 600
    while time.time() < deadline:
        done = [n for n in progress(root).values() if n >= 1]
        if len(done) >= 2:
            break
        time.sleep(0.3)
    else:
        pytest.fail("HPO never started: " + (tmp_path / "killed.log").read_text()[-3000:])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = progress(root)
    assert not all(
        (root / f"results/hpo/original/cased/{a}/trials.csv").exists() for a in ("asha", "random")
    )
    # no Ray survives the run: the jobs' local Rays were in the killed process group
    time.sleep(2)
    leftovers = subprocess.run(["pgrep", "-f", f"{root}"], capture_output=True, text=True).stdout
    assert not leftovers.strip(), "processes of the killed run are still alive"

    run(["snakemake", "--unlock"], root)
    again = run(["snakemake", "--cores", "2"], root, timeout=900)
    after = progress(root)
    for trial, epochs in before.items():
        if epochs == 3:  # finished before the kill: not trained again
            assert after[trial] == 3, trial
    for algorithm in ("asha", "random"):
        trials = pd.read_csv(root / f"results/hpo/original/cased/{algorithm}/trials.csv")
        assert len(trials) == 4 and trials.trial_id.is_unique
    assert tables((root / "README.md").read_text()) == tables((reference / "README.md").read_text())
    assert again.returncode == 0
