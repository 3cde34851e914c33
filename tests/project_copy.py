"""Make a throw-away copy of the project (code and workflow, no data or results) for
end-to-end runs through Snakemake and DVC, with params edited for a tiny run."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COPIED = ["Snakefile", "dvc.yaml", "params.yaml", "workflow", "profiles", ".dvc", "README.md"]
IGNORED = shutil.ignore_patterns(
    "__pycache__",
    "tmp",
    "cache",
    "*.lock",
    "config.local",
    "dvc",  # dvc: the on-request file
)


def deep_update(base: dict, edits: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in edits.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = value
    return out


def tiny_params(**edits) -> dict:
    """The project's params with a demo small enough for a test run."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    tiny = {"corpus": {"demo": {"train_sentences": 60, "dev_sentences": 30, "test_sentences": 30}}}
    return deep_update(deep_update(params, tiny), edits)


def make_copy(dest: Path, params: dict | None = None, git: bool = True) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORED)
        elif src.exists():
            shutil.copy2(src, dest / name)
    (dest / "src").symlink_to(ROOT / "src")  # dvc.yaml lists package files as deps
    (dest / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    if params is not None:
        (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    if git:
        run(["git", "init", "-q"], dest)
        run(["git", "add", "-A"], dest)
        run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"], dest)
    return dest


def run(cmd: list[str], cwd: Path, timeout: int = 1200, check: bool = True, **kw):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.update(kw.pop("env", {}))
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **kw
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def tree_bytes(root: Path, sub: str) -> dict[str, bytes]:
    base = root / sub
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(base.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def assert_resumed_epochs(epochs: list[int], max_epochs: int | None = None) -> None:
    """A resumed trial's progress.csv: every epoch 1..n reported, in order, at most one twice.

    Tune resumes a trial from the checkpoint in its last saved experiment state, which can trail
    the progress.csv copied beside it by one result (Tune copies the files in a background
    thread while the run goes on), so the epoch in between is trained and reported again."""
    assert epochs == sorted(epochs), epochs
    assert sorted(set(epochs)) == list(range(1, max(epochs) + 1)), epochs
    assert len(epochs) - len(set(epochs)) <= 1, epochs
    if max_epochs is not None:
        assert max(epochs) <= max_epochs, epochs
