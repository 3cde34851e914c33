"""Faults from outside: a trial's process killed (as the kernel's OOM killer would), an unwritable
output folder, a full disk. Each through the real scripts: the study goes on and the job succeeds;
a write that cannot happen ends in one line naming the path and the problem, exit 1, nothing left."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml
from project_copy import ROOT
from test_hpo import hpo_cmd, tiny_hpo_params, workdir  # noqa: F401  (workdir: the tiny data fixture)

PYTHON = sys.executable
MAKE_CORPUS = str(ROOT / "workflow/scripts/make_corpus.py")
NOBODY = 65534


def trial_workers(pid: int) -> list[psutil.Process]:
    """Ray worker processes running a trial, among the descendants of ``pid`` (the HPO script,
    whose local Ray's raylet starts the workers): their title is ``ray::ImplicitFunc.train``."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if " ".join(child.cmdline()).startswith("ray::ImplicitFunc.train"):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def reported_epochs(out: Path) -> dict[str, int]:
    epochs = {}
    for path in (out / "tune").glob("trainable_*/progress.csv"):
        try:
            epochs[path.parent.name] = len(pd.read_csv(path))
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            epochs[path.parent.name] = 0
    return epochs


@pytest.mark.slow
def test_trial_process_killed_from_outside(workdir, tmp_path):  # noqa: F811
    """SIGKILL the worker process of the running trial (3 trials, one at a time): that trial is
    recorded as failed with a message saying its process died, the other two finish, exit 0."""
    # 10 epochs: on a quiet machine a 3-epoch tiny trial finished (0.5 s) before the watcher saw it
    params = tiny_hpo_params(hpo={"num_samples": 3, "concurrency": 1, "max_epochs": 10})
    (workdir / "params-oom.yaml").write_text(yaml.safe_dump(params))
    out = workdir / "results/hpo/original/cased/random"
    shutil.rmtree(out, ignore_errors=True)
    log_path = tmp_path / "hpo.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            hpo_cmd("params-oom.yaml"),
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    killed = None
    try:
        deadline = time.time() + 300
        while time.time() < deadline and killed is None:
            # the first trial has reported an epoch and is training its next one
            if any(n >= 1 for n in reported_epochs(out).values()):
                workers = trial_workers(proc.pid)
                if len(workers) == 1:
                    killed = workers[0].pid
                    os.kill(killed, signal.SIGKILL)
                    break
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        assert killed is not None, "no running trial found: " + log_path.read_text()[-3000:]
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log_path.read_text()
    assert proc.returncode == 0, text[-3000:]
    trials = pd.read_csv(out / "trials.csv", dtype={"trial_id": str}).fillna("")
    assert len(trials) == 3 and trials.trial_id.is_unique
    failed = trials[trials.status == "ERROR"]
    assert len(failed) == 1, trials
    error = failed.error.iloc[0]
    assert f"pid {killed}" in error and "died while training" in error, error
    assert "OOM killer" in error
    assert (trials.status == "TERMINATED").sum() == 2
    assert (trials[trials.status == "TERMINATED"].epochs == 10).all()
    assert (trials[trials.status == "TERMINATED"].node.str.len() > 0).all()
    assert (out / "best.json").exists() and (out / "model/model.safetensors").exists()
    assert "FAILED" in text and f"pid {killed}" in text  # the job log says which and why
    assert "1 failed" in text


# -- unwritable and full output folders --------------------------------------------------------
def shared_tmp() -> Path:
    """A temporary folder another user can enter (pytest's tmp_path is private to its user)."""
    path = Path(tempfile.mkdtemp(prefix="nerhpo-faults-"))
    path.chmod(0o755)
    return path


def as_unprivileged(cmd: list[str]) -> list[str]:
    """Root ignores file permissions: run the command as nobody then (CI may run as root)."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]


def assert_one_line_error(proc, *expected: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), proc.stderr
    # the error is the only line that is not a log line
    assert [line for line in lines if not line[:2].isdigit()] == [lines[-1]], proc.stderr
    for part in expected:
        assert part in lines[-1], (part, lines[-1])
    return lines[-1]


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if not p.is_dir())


@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-folder"])
def test_unwritable_output_folder(existing):
    """make_corpus.py into a folder it may not write: one line naming the path, exit 1."""
    base = shared_tmp()
    try:
        parent = base / "readonly"
        parent.mkdir()
        out = parent / "corpus"
        if existing:
            out.mkdir()
            out.chmod(0o555)
        else:
            parent.chmod(0o555)
        cmd = [PYTHON, MAKE_CORPUS, "--params", str(ROOT / "params.yaml"), "--out", str(out)]
        proc = subprocess.run(as_unprivileged(cmd), cwd=base, capture_output=True, text=True)
        target = out / "train.tsv" if existing else out
        assert_one_line_error(proc, f"cannot write {target}: Permission denied")
        assert files_under(parent) == []
    finally:
        for path in (base / "readonly", base / "readonly/corpus"):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(base)


def test_output_path_under_a_file(tmp_path):
    """A file where a folder should be (ENOTDIR): the same one-line error."""
    (tmp_path / "data").write_text("not a folder\n")
    cmd = [PYTHON, MAKE_CORPUS, "--params", str(ROOT / "params.yaml"), "--out", "data/corpus"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert_one_line_error(proc, "cannot write data/corpus: Not a directory")
    assert (tmp_path / "data").read_text() == "not a folder\n"


def full_disk_command(mount: Path, cmd: list[str]) -> list[str]:
    """``cmd`` with a 16 kB tmpfs at ``mount``, in a private mount namespace (as root, or as a
    user where user namespaces are allowed); the files left in it are listed on stdout."""
    script = (
        'mount -t tmpfs -o size=16k nerhpo-full "$1" || exit 99; shift; "$@"; rc=$?; '
        'echo "LEFT:"; find "$0" -type f; exit $rc'
    )
    unshare = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "-rm"]
    return [*unshare, "sh", "-c", script, str(mount), str(mount), *cmd]


def test_full_disk(tmp_path):
    """make_corpus.py onto a full file system (a 16 kB tmpfs): one line, exit 1, no partial file."""
    mount = tmp_path / "full"
    mount.mkdir()
    out = mount / "corpus"
    cmd = [PYTHON, MAKE_CORPUS, "--params", str(ROOT / "params.yaml"), "--out", str(out)]
    proc = subprocess.run(full_disk_command(mount, cmd), capture_output=True, text=True)
    if proc.returncode == 99:  # no mount namespace here: a file size limit fails writes alike
        assert "mount" in proc.stderr or "unshare" in proc.stderr, proc.stderr
        proc = subprocess.run(
            cmd, capture_output=True, text=True, preexec_fn=_limit_file_size(16_000)
        )
        assert_one_line_error(proc, f"cannot write {out / 'train.tsv'}: File too large")
        assert files_under(mount) == []
        return
    assert_one_line_error(proc, f"cannot write {out / 'train.tsv'}: No space left on device")
    left = proc.stdout.split("LEFT:", 1)[1].split()
    assert left == [], left  # the temporary file was removed


def _limit_file_size(limit: int):
    def apply():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow
def test_hpo_results_folder_unwritable(workdir):  # noqa: F811
    """The HPO script with results/hpo blocked by a file: one line naming the folder, exit 1,
    before any training."""
    params = tiny_hpo_params()
    root = workdir / "blocked"
    root.mkdir()
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    os.symlink(workdir / "data", root / "data")
    (root / "results").mkdir()
    os.symlink(workdir / "results/pretrained", root / "results/pretrained")
    (root / "results/hpo").write_text("")
    proc = subprocess.run(hpo_cmd("params.yaml"), cwd=root, capture_output=True, text=True)
    # the study's folder, which mkdir could not make, and why
    out = root.resolve() / "results/hpo/original/cased/random"
    assert_one_line_error(proc, f"cannot write {out}: Not a directory")
    assert "trial" not in proc.stdout


def test_corpus_stage_writes_all_splits_or_none(tmp_path, monkeypatch):
    """A disk that fills after train.tsv: the stage leaves no split behind (DVC does not clean
    a failed stage's outputs the way Snakemake does)."""
    import errno

    from nerhpo.core.atomic import WriteError
    from nerhpo.data import build

    real_write = build.write_corpus

    def fill_up_after_train(path, sentences, *args):
        if Path(path).name != "train.tsv":
            raise WriteError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, sentences, *args)

    monkeypatch.setattr(build, "write_corpus", fill_up_after_train)
    corpus = {
        "source": "demo",
        "demo": {"train_sentences": 30, "dev_sentences": 20, "test_sentences": 20},
    }
    with pytest.raises(WriteError, match="No space left"):
        build.build_corpus(corpus, 42, tmp_path / "corpus")
    assert list((tmp_path / "corpus").iterdir()) == []
