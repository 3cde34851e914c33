"""SIGKILL the whole run (its process group) during the HPO stage, run it again: it finishes, no
finished trial is trained again, every trial is in trials.csv once, and the tables equal those of
an uninterrupted run with the same seeds. Once through Snakemake, once through ``dvc repro``."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from project_copy import assert_resumed_epochs, make_copy, run
from test_pipeline_e2e import e2e_params, tables

pytestmark = pytest.mark.slow

ALGORITHMS = ("asha", "random")


def small_params():
    params = e2e_params()
    params["tag_families"] = {"original": {}}
    params["hpo"].update(
        families=["original"],
        train_variants=["cased"],
        algorithms=list(ALGORITHMS),
        num_samples=4,
    )
    params["hpo"]["max_epochs"] = 3
    params["baseline"]["batch_sizes"] = [16]
    params["objectives"]["enabled"] = False
    params["casing_seeds"]["seeds"] = 0
    params["pretrain_hpo"]["probe"].update(family="original", variant="cased")
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


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted Snakemake run (Snakemake and DVC give the same tables: test_pipeline_e2e)."""
    root = make_copy(tmp_path_factory.mktemp("reference") / "project", small_params())
    run(["snakemake", "--cores", "2"], root, timeout=900)
    return root


def start_and_kill(cmd: list[str], root: Path, log_path: Path) -> dict[str, int]:
    """Start ``cmd`` in its own process group, SIGKILL the group once two trials have reported an
    epoch, check that nothing of it survives; return the trials' epochs at the kill."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.time() + 600
        while time.time() < deadline:
            if len([n for n in progress(root).values() if n >= 1]) >= 2:
                break
            if proc.poll() is not None:
                pytest.fail(f"{cmd[0]} ended before HPO got going: {log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        else:
            pytest.fail("HPO never started: " + log_path.read_text()[-3000:])
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = progress(root)
    assert not all(
        (root / f"results/hpo/original/cased/{a}/trials.csv").exists() for a in ALGORITHMS
    )
    # no process survives the run: the jobs' local Rays were in the killed process group
    time.sleep(2)
    leftovers = subprocess.run(["pgrep", "-f", f"{root}"], capture_output=True, text=True).stdout
    assert not leftovers.strip(), "processes of the killed run are still alive"
    return before


def check_resumed(root: Path, before: dict[str, int], reference: Path) -> None:
    """No trial finished before the kill was trained again (but for the one epoch by which Tune's
    saved state may trail its progress files); epochs in order; the README tables equal the
    uninterrupted run's."""
    after = progress(root)
    for trial, epochs in before.items():
        if epochs == 3:  # finished before the kill: at most its last epoch again
            assert after[trial] <= 4, trial
    for algorithm in ALGORITHMS:
        study = root / f"results/hpo/original/cased/{algorithm}"
        trials = pd.read_csv(study / "trials.csv", dtype={"trial_id": str})
        assert len(trials) == 4 and trials.trial_id.is_unique
        assert set(trials.status) <= {"TERMINATED", "STOPPED"}
        reported = sorted((study / "tune").glob("trainable_*/progress.csv"))
        assert len(reported) == 4, reported
        for path in reported:
            assert_resumed_epochs(list(pd.read_csv(path).training_iteration), max_epochs=3)
    assert tables((root / "README.md").read_text()) == tables((reference / "README.md").read_text())


def test_sigkill_pipeline_and_resume(reference, tmp_path):
    root = make_copy(tmp_path / "killed", small_params())
    before = start_and_kill(["snakemake", "--cores", "2"], root, tmp_path / "killed.log")
    run(["snakemake", "--unlock"], root)
    again = run(["snakemake", "--cores", "2"], root, timeout=900)
    assert again.returncode == 0
    check_resumed(root, before, reference)


def test_sigkill_dvc_repro_and_resume(reference, tmp_path):
    """``dvc repro`` runs the stages one after another; its HPO stages keep their Ray Tune state
    (``persist: true``), so the second ``dvc repro`` resumes the interrupted study. DVC clears
    the dead process's entries in its lock files itself: nothing to unlock."""
    root = make_copy(tmp_path / "killed", small_params())
    before = start_and_kill(["dvc", "repro"], root, tmp_path / "killed.log")
    again = run(["dvc", "repro"], root, timeout=900)
    assert "resuming the study" in again.stdout + again.stderr
    check_resumed(root, before, reference)
    assert "Data and pipelines are up to date" in run(["dvc", "status"], root).stdout
