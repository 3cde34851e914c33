"""The run's status (nerhpo.analysis.status, workflow/scripts/status.py): the planned studies,
an empty run, real tiny studies running, finished, killed and failed, and the watch view in a
real terminal (tmux)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from project_copy import ROOT
from test_hpo import hpo_cmd, make_workdir, tiny_hpo_params

from nerhpo.analysis.status import (
    driver_folder,
    live_drivers,
    log_error,
    planned_studies,
    run_status,
)
from nerhpo.core.config import load_params
from nerhpo.search.tune_files import read_progress

SCRIPT = ROOT / "workflow/scripts/status.py"
STUDY = "hpo/original/cased/{}"


def status_script(*args, cwd=ROOT):
    """The script's output to a pipe, where it is one line per study. The environment is
    passed explicitly: under pytest a child process found COLUMNS=80 in its environment,
    though os.environ has none."""
    cmd = [sys.executable, str(SCRIPT), *args]
    env = dict(os.environ)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=True)


def one_study_params(workdir, name, algorithm, **hpo):
    """A run of one main study (original/cased/algorithm) and nothing else, saved as ``name``."""
    params = tiny_hpo_params(
        hpo={
            "families": ["original"],
            "train_variants": ["cased"],
            "algorithms": [algorithm],
            "repeats": 1,
            "compare": {
                "families": ["original"],
                "train_variants": ["cased"],
                "algorithms": [algorithm],
            },
            **hpo,
        },
        sprint={"enabled": False},
        objectives={"enabled": False},
        casing_seeds={"seeds": 0},
    )
    (workdir / name).write_text(yaml.safe_dump(params))
    return load_params(workdir / name)


def start_study(workdir, params_name, algorithm, log_path):
    """The HPO script as a pipeline job runs it, in a session of its own (killed as a group)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NERHPO_PRECISION": "fp32"}  # scores that differ (see test_hpo)
    return subprocess.Popen(
        hpo_cmd(params_name, algorithm),
        cwd=workdir,
        stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )


def row_of(workdir, params, **kwargs):
    """The one row of a one-study run, and the run's total."""
    status = run_status(params, workdir / "results", logs=workdir / "logs", **kwargs)
    json.dumps(status, allow_nan=False)  # what --json prints: plain values only
    assert len(status["rows"]) == 1
    return status["rows"][0], status["total"]


# -- planned studies and an empty run -------------------------------------------------------------
def test_the_planned_studies_of_the_default_params():
    params = load_params(ROOT / "params.yaml")
    names = [s.name for s in planned_studies(params, "results")]
    assert len(names) == 18 + 5 + 2 + 2 and len(set(names)) == len(names)
    assert names[0] == "hpo/original/cased/asha"
    series = "repeats/simple/uncased-cased-mix"
    repeats = [n for n in names if n.startswith("repeats/")]
    # repeat 0 of a compared main algorithm is its main study; random is no main algorithm
    assert repeats == [f"{series}/{a}/r1" for a in ("asha", "bohb", "pbt")] + [
        f"{series}/random/r0",
        f"{series}/random/r1",
    ]
    assert names[-4:] == [
        "sprint/cheap",
        "sprint/full",
        "objective/cased",
        "objective/uncased-cased-mix",
    ]
    cheap = planned_studies(params)[-4]
    worst = planned_studies(params)[-1]
    assert (worst.family, worst.variant, worst.algorithm, worst.kind) == (
        "original",
        "uncased-cased-mix",
        "asha",
        "objective",
    )
    assert worst.log == "objective/uncased-cased-mix.log"
    assert (cheap.trials, cheap.max_epochs, cheap.seed) == (8, 2, 42)
    r1 = next(s for s in planned_studies(params) if s.name == f"{series}/random/r1")
    assert (r1.seed, r1.repeat, r1.log) == (43, 1, "repeats/simple/uncased-cased-mix/random.log")
    params["sprint"]["enabled"] = False
    params["objectives"]["enabled"] = False
    assert len(planned_studies(params)) == 23


def test_an_empty_run_is_all_waiting_and_its_eta_unknown(tmp_path):
    """Before anything ran there is no epoch time to go by: the ETA is unknown (no defaults)."""
    params = load_params(ROOT / "params.yaml")
    status = run_status(params, tmp_path / "results", logs=tmp_path / "logs")
    assert {r["state"] for r in status["rows"]} == {"waiting"}
    assert all(r["eta_s"] is None and r["trials_done"] == 0 for r in status["rows"])
    total = status["total"]
    assert (total["done"], total["studies"], total["states"]["waiting"]) == (0, 27, 27)
    # 18 main studies, 5 repeats and 2 objective studies of 4 x 3 epochs, the cheap round 8 x 2,
    # the full one 4 x 3
    assert (total["epochs_done"], total["epochs_planned"]) == (0, 25 * 12 + 16 + 12)
    assert total["eta_s"] is None and total["eta_basis"].startswith("none")
    out = status_script("--results", str(tmp_path / "results"), "--json")
    assert json.loads(out.stdout)["total"]["states"]["waiting"] == 27
    table = status_script("--results", str(tmp_path / "results")).stdout
    assert "hpo/original/cased/asha" in table and "waiting" in table
    assert "0/27 studies done" in table and "ETA unknown" in table


def test_which_processes_are_drivers(tmp_path):
    hpo = ["python", "workflow/scripts/hpo.py", "--family", "f", "--out", "results/hpo/f/v/a"]
    assert driver_folder(hpo, tmp_path) == tmp_path / "results/hpo/f/v/a"
    series = "results/repeats/f/v/a"
    repeats = ["python", "/x/workflow/scripts/repeats.py", f"--out={series}/repeats.json"]
    assert driver_folder(repeats, tmp_path) == tmp_path / series  # the whole series
    # a job waiting for its GPU slots is not yet a driver
    assert driver_folder(["python", "workflow/scripts/gpu_slot.py", "--", *hpo], tmp_path) is None
    assert driver_folder(["python", "workflow/scripts/report.py", "--out", "x"], tmp_path) is None


def test_a_log_says_failed_only_when_it_ends_in_an_error(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("[a/b/c] trial 1/4 done\nerror: a/b/c: no trial finished (1 failed)\n\n")
    assert log_error(log, None) == "error: a/b/c: no trial finished (1 failed)"
    assert log_error(log, time.time() + 60) == ""  # written before the study's last change
    log.write_text("error: x\n[a/b/c] resuming the study saved in tune\n")
    assert log_error(log, None) == ""
    log.write_text("Traceback (most recent call last):\nKeyError: 'x'\n")
    assert log_error(log, None) == "KeyError: 'x'"


def test_the_watch_view_redraws_in_a_terminal_and_ends_on_ctrl_c(tmp_path):
    """status.py --watch in a real terminal (tmux, 150 x 45): the table, redrawn in place, and
    Ctrl-C ends it with exit status 0."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is missing (apt-get install tmux)")
    socket = f"nerhpo-status-{os.getpid()}"

    def tmux(*args):
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True)

    def pane():
        return tmux("capture-pane", "-p", "-t", "watch").stdout

    # the size is tmux's, not that of an inherited COLUMNS or LINES (see status_script)
    command = (
        f"unset COLUMNS LINES; {sys.executable} {SCRIPT} --watch --interval 0.5 --results {tmp_path / 'results'}; "
        "echo status-exit=$?; sleep 60"
    )
    size = ["-x", "150", "-y", "45"]
    started = tmux("new-session", "-d", "-s", "watch", *size, "-c", str(ROOT), command)
    assert started.returncode == 0, started.stderr
    try:
        first = wait_for(pane, lambda text: "hpo/original/cased/asha" in text, 30)
        assert "study" in first and "state" in first and "ETA" in first
        assert "hpo/original/cased/asha    " in first and "waiting" in first
        title = next(line for line in first.splitlines() if "nerhpo studies at" in line)
        later = wait_for(pane, lambda text: title not in text, 10)  # the clock moved on
        assert later.count("nerhpo studies at") == 1  # redrawn in place, not scrolled
        tmux("send-keys", "-t", "watch", "C-c")
        ended = wait_for(pane, lambda text: "status-exit=" in text, 10)
        assert "status-exit=0" in ended and "Traceback" not in ended
    finally:
        tmux("kill-server")


def wait_for(read, ok, seconds: float):
    deadline = time.time() + seconds
    while time.time() < deadline:
        text = read()
        if ok(text):
            return text
        time.sleep(0.2)
    pytest.fail(f"not seen within {seconds} s; last:\n{text}")


# -- real tiny studies ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Tiny demo data (original/cased) and a pretrained tiny encoder, as test_hpo's workdir."""
    return make_workdir(tmp_path_factory.mktemp("status"))


def ray_workers(session: int) -> list[int]:
    """The Ray worker processes (titled ``ray::...``) of a process session: the trials run there."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            title = (entry / "cmdline").read_bytes()
            if title.startswith(b"ray::") and os.getsid(int(entry.name)) == session:
                pids.append(int(entry.name))
        except OSError:  # gone
            continue
    return pids


@pytest.fixture(scope="module")
def ran(workdir):
    """A real tiny study (random, 3 trials x 2 epochs) run by the HPO script. Its later trials
    take about a second, too short a window to poll reliably on a loaded machine, so once its
    log says the first trial is done, the Ray workers that run the trials are paused (SIGSTOP)
    while the driver goes on saving the Tune state, and the status is polled until it shows
    the study running with trials left; then they are resumed."""
    params = one_study_params(workdir, "params-status.yaml", "random", num_samples=3, max_epochs=2)
    log = workdir / "logs/hpo/random.log"
    proc = start_study(workdir, "params-status.yaml", "random", log)
    running, paused = None, []
    try:
        deadline = time.time() + 300
        while (
            proc.poll() is None and time.time() < deadline and "trial 1/3 " not in log.read_text()
        ):
            time.sleep(0.05)
        paused = ray_workers(proc.pid)
        assert paused, "no Ray worker of the study was found to pause"
        for pid in paused:
            os.kill(pid, signal.SIGSTOP)
        deadline = time.time() + 30
        while proc.poll() is None and time.time() < deadline:
            row, total = row_of(workdir, params, live=live_drivers())
            if row["state"] == "running" and 0 < row["trials_done"] < row["trials_planned"]:
                running = (row, total)
                break
            time.sleep(0.2)
        for pid in paused:
            os.kill(pid, signal.SIGCONT)
        assert proc.wait(timeout=300) == 0, log.read_text()[-3000:]
    finally:
        for pid in paused:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return params, running


@pytest.mark.slow
def test_a_running_study_shows_its_progress(ran):
    params, running = ran
    assert running is not None, "the study was never seen running with trials left"
    row, total = running
    assert row["name"] == STUDY.format("random")
    assert 1 <= row["trials_done"] < 3 and row["trials_planned"] == 3
    assert 2 <= row["epochs_done"] < 6 and row["epochs_planned"] == 6
    assert 0.0 <= row["best_dev_f1"] <= 1.0 and row["config"]["batch_size"] in (4, 8)
    assert row["elapsed_s"] > 0 and row["epoch_s"] > 0
    assert row["eta_s"] == pytest.approx(row["epoch_s"] * (6 - row["epochs_done"]))
    assert total["eta_s"] == pytest.approx(row["eta_s"], abs=0.1)
    assert total["eta_basis"].startswith("unfinished studies")


@pytest.mark.slow
def test_a_finished_study_shows_its_results(ran, workdir):
    params, _ = ran
    out = workdir / "results" / STUDY.format("random")
    trials = pd.read_csv(out / "trials.csv")
    best = json.loads((out / "best.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    row, total = row_of(workdir, params)
    assert row["state"] == "done" and row["note"] == ""
    assert (row["trials_done"], row["trials_planned"]) == (len(trials), 3)
    assert (row["epochs_done"], row["epochs_planned"]) == (trials.epochs.sum(), 6)
    assert row["best_dev_f1"] == best["dev_f1"] == pytest.approx(trials.best_dev_f1.max())
    assert row["config"] == best["config"]
    assert row["elapsed_s"] == summary["wall_seconds"] and row["eta_s"] == 0.0
    per_epoch = (summary["train_seconds"] + summary["eval_seconds"]) / trials.epochs.sum()
    assert row["epoch_s"] == pytest.approx(per_epoch)
    assert (total["done"], total["studies"], total["eta_s"]) == (1, 1, 0.0)
    # the script shows the same, as a table and as JSON
    args = ["--params", "params-status.yaml"]
    shown = json.loads(status_script(*args, "--json", cwd=workdir).stdout)
    assert shown["rows"][0]["state"] == "done" and shown["rows"][0]["trials_done"] == 3
    table = status_script(*args, cwd=workdir)
    line = next(x for x in table.stdout.splitlines() if STUDY.format("random") in x)
    assert "done" in line and "3/3" in line and f"{best['dev_f1']:.4f}" in line
    assert f"bs={best['config']['batch_size']}" in line
    assert "1/1 studies done" in table.stdout


@pytest.mark.slow
def test_finished_results_of_other_settings_are_outdated(ran, workdir):
    """Results of 3 trials when 4 are planned, or of another seed, are redone by the next run:
    the ETA is that of the whole study, at the epoch time it measured."""
    params, _ = ran
    more = {**params, "hpo": {**params["hpo"], "num_samples": 4}}
    row, total = row_of(workdir, more)
    assert row["state"] == "outdated" and "3 trials, planned 4" in row["note"]
    assert row["eta_s"] == pytest.approx(row["epoch_s"] * 8) and total["done"] == 0
    assert total["epochs_done"] == 0
    row, _ = row_of(workdir, {**params, "seed": 43})
    assert row["state"] == "outdated" and "seed 42, planned 43" in row["note"]


@pytest.mark.slow
def test_a_killed_study_is_stale(workdir, tmp_path):
    """SIGKILL of the HPO job mid-way leaves a Tune state that nothing updates: stale once the
    threshold passed (0 here, so the test need not wait), running until then."""
    params = one_study_params(workdir, "params-killed.yaml", "asha", num_samples=6, max_epochs=2)
    out = workdir / "results" / STUDY.format("asha")
    proc = start_study(workdir, "params-killed.yaml", "asha", tmp_path / "asha.log")
    try:
        wait_for(lambda: [len(read_progress(p)) for p in out.glob("tune/*/")], any, 300)
        row, _ = row_of(workdir, params, stale_after=0, live=live_drivers())
        assert row["state"] == "running"  # its driver runs here
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the script and the Ray processes it started
        proc.wait()
    assert not (out / "trials.csv").exists(), "the study ended before it was killed"
    assert out.resolve() not in live_drivers()
    row, total = row_of(workdir, params, stale_after=0, live=live_drivers())
    assert row["state"] == "stale" and "resumes" in row["note"]
    progress = [pd.read_csv(p) for p in out.glob("tune/*/progress.csv")]
    progress = [p for p in progress if not p.empty]
    assert row["epochs_done"] == sum(p.training_iteration.max() for p in progress) >= 1
    assert row["trials_done"] < row["trials_planned"] == 6
    best = max(p.dev_f1.max() for p in progress)
    assert row["best_dev_f1"] == pytest.approx(best)
    assert row["eta_s"] == pytest.approx(row["epoch_s"] * (12 - row["epochs_done"]))
    assert total["states"]["stale"] == 1 and total["eta_s"] is not None
    # within the threshold and with no driver seen, it still reads as running (SLURM: the driver
    # may run on another node)
    assert row_of(workdir, params, stale_after=600)[0]["state"] == "running"


@pytest.mark.slow
def test_a_failed_study_says_why(workdir):
    """A study none of whose trials finish: its job's log ends in the error (Snakemake's log
    path), and its trials.csv, written without a summary, says so too."""
    space = {
        "learning_rate": {"type": "loguniform", "low": 1e-3, "high": 1e-2, "grid": [1e12]},
        "batch_size": {"type": "choice", "values": [8]},
    }
    params = one_study_params(workdir, "params-failing.yaml", "grid", search_space=space)
    log = workdir / "logs/hpo/original/cased/grid.log"
    proc = start_study(workdir, "params-failing.yaml", "grid", log)
    assert proc.wait(timeout=300) == 1, log.read_text()[-3000:]
    row, total = row_of(workdir, params)
    assert row["state"] == "failed" and row["trials_planned"] == 1
    assert row["note"].startswith("error: original/cased/grid: no trial finished")
    assert row["eta_s"] is None and total["states"]["failed"] == 1
    assert total["eta_s"] == 0.0  # a failed study is no work left
    log.unlink()  # no log (a DVC run): trials.csv without summary.json, once nothing changes
    row, _ = row_of(workdir, params, stale_after=0)
    assert row["state"] == "failed" and "1 of 1 trials failed" in row["note"]
