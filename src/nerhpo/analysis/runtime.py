"""Where a pipeline run's time went: each stage's job-seconds against the training and
evaluation measured inside its jobs, and the run's wall time.

Why: the rest of a job's time (starting Python, imports, Ray, writing results) is the fixed cost
that decides whether many small jobs are worth running; this makes it a number a user can
check after every run instead of a figure in the README. Job-seconds come from Snakemake's
benchmark files (``logs/benchmarks/<stage>/...tsv``, wall seconds of each job's command); the
work inside the jobs from what the jobs record: ``train_seconds`` and ``eval_seconds`` of every
HPO study, ``train_seconds`` of re-trainings, baselines and pretraining, and the scoring time of
each evaluated file. Stages that record none (data, findings, report) count as work-free.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

BENCHMARKS = Path("logs/benchmarks")


def _json_files(root: Path, pattern: str) -> Iterable[dict]:
    for path in sorted(root.glob(pattern)):
        yield json.loads(path.read_text())


def _studies(root: Path, pattern: str) -> float:
    return sum(
        s.get("train_seconds", 0.0) + s.get("eval_seconds", 0.0) for s in _json_files(root, pattern)
    )


def _retrain(root: Path) -> float:
    return sum(
        run.get("train_seconds", 0.0)
        for result in _json_files(root, "results/retrain/**/*.json")
        for study in result.get("studies", [])
        for run in study.get("runs", [])
    )


def _casing_seeds(root: Path) -> float:
    return sum(
        run.get("train_seconds", 0.0) + run.get("eval_seconds", 0.0)
        for result in _json_files(root, "results/casing_seeds/*/*.json")
        for run in result.get("runs", [])
    )


def _baseline(root: Path) -> float:
    return sum(r.get("train_seconds", 0.0) for r in _json_files(root, "results/baseline/*.json"))


def _eval(root: Path) -> float:
    return sum(
        result.get("seconds", 0.0)
        for ev in _json_files(root, "results/eval/**/*.json")
        for split in ev.get("scores", {}).values()
        for result in split.values()
    )


def _pretrain(root: Path) -> float | None:
    path = root / "results/pretrained/pretrain.json"
    return json.loads(path.read_text()).get("train_seconds") if path.exists() else None


# stage (the first folder under logs/benchmarks) -> seconds of training and evaluation in it
# (None: not recorded, e.g. by an older version)
STAGE_WORK: dict[str, Callable[[Path], float | None]] = {
    "hpo": lambda root: _studies(root, "results/hpo/**/summary.json"),
    "repeats": lambda root: _studies(root, "results/repeats/**/summary.json"),
    "sprint": lambda root: _studies(root, "results/sprint/*/summary.json"),
    # the objective's studies (their evaluation, in the same job, is not counted as work here)
    "objective": lambda root: _studies(root, "results/objective/*/summary.json"),
    "retrain": _retrain,
    "casing_seeds": _casing_seeds,
    "baseline": _baseline,
    "eval": _eval,
    "pretrain": _pretrain,
}


HPO_STAGES = ("hpo", "repeats", "sprint", "objective")  # jobs that run Ray Tune studies


@dataclass
class Runtime:
    stages: pd.DataFrame  # stage, jobs, job_seconds, work_seconds, other_share
    wall_seconds: float  # first job's start to last job's end

    def other_share(self, stages: Iterable[str] | None = None) -> float | None:
        """Share of the job-seconds that is neither training nor evaluation, over ``stages``
        (default all) whose work is known."""
        rows = self.stages if stages is None else self.stages[self.stages.stage.isin(stages)]
        known = rows[rows.work_seconds.notna()]
        jobs = known.job_seconds.sum()
        return float(1 - known.work_seconds.sum() / jobs) if jobs else None

    def total(self) -> dict:
        """Sums over all stages; the share over the stages whose work is known."""
        share = self.other_share()
        return {
            "jobs": int(self.stages.jobs.sum()),
            "job_seconds": round(float(self.stages.job_seconds.sum()), 1),
            "work_seconds": round(float(self.stages.work_seconds.sum()), 1),
            "other_share": None if share is None else round(share, 3),
            "wall_seconds": round(self.wall_seconds, 1),
        }


def read_benchmarks(root: str | Path = ".") -> pd.DataFrame:
    """One row per job: stage, job (its benchmark file), seconds, end (the file's mtime)."""
    root = Path(root)
    rows = []
    for path in sorted((root / BENCHMARKS).rglob("*.tsv")):
        table = pd.read_csv(path, sep="\t")
        if table.empty:
            continue
        rel = path.relative_to(root / BENCHMARKS)
        stage = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        seconds = float(table["s"].iloc[-1])  # the last run (a benchmark with repeats has more)
        rows.append((stage, str(rel), seconds, path.stat().st_mtime))
    return pd.DataFrame(rows, columns=["stage", "job", "seconds", "end"])


def _capped(work: float | None, job_seconds: float) -> float:
    """Work as measured, at most the jobs' time (the two clocks differ by rounding)."""
    return float("nan") if work is None else min(work, job_seconds)


def runtime(root: str | Path = ".") -> Runtime:
    """Job-seconds and measured work per stage of the run in ``root`` (a project folder)."""
    root = Path(root)
    jobs = read_benchmarks(root)
    if jobs.empty:
        raise FileNotFoundError(
            f"{root / BENCHMARKS}: no benchmark files (they are written by Snakemake runs)"
        )
    stages = jobs.groupby("stage").agg(jobs=("job", "size"), job_seconds=("seconds", "sum"))
    stages["work_seconds"] = [
        _capped(STAGE_WORK[s](root), js) if s in STAGE_WORK else 0.0
        for s, js in zip(stages.index, stages.job_seconds)
    ]
    stages["other_share"] = 1 - stages.work_seconds / stages.job_seconds
    stages = stages.sort_values("job_seconds", ascending=False).reset_index()
    wall = float(jobs.end.max() - (jobs.end - jobs.seconds).min())
    return Runtime(stages, wall)


def markdown(rt: Runtime) -> str:
    from tabulate import tabulate

    def known(value: float, fmt: str) -> str:
        return "–" if pd.isna(value) else format(value, fmt)

    rows = [
        [
            r.stage,
            r.jobs,
            f"{r.job_seconds:,.0f}",
            known(r.work_seconds, ",.0f"),
            known(r.other_share, ".1%"),
        ]
        for r in rt.stages.itertuples()
    ]
    total = rt.total()
    rows.append(
        [
            "**total**",
            total["jobs"],
            f"{total['job_seconds']:,.0f}",
            f"{total['work_seconds']:,.0f}",
            f"{total['other_share']:.1%}",
        ]
    )
    headers = ["stage", "jobs", "job-seconds", "training + evaluation s", "neither"]
    table = tabulate(rows, headers, tablefmt="github", colalign=("left",) + ("right",) * 4)
    minutes, seconds = divmod(round(rt.wall_seconds), 60)
    hpo = rt.stages.stage[rt.stages.stage.isin(HPO_STAGES)]
    lines = [
        table,
        "",
        f"Wall time, first job's start to last job's end: {minutes} min {seconds} s "
        f"({total['job_seconds'] / max(rt.wall_seconds, 1e-9):.2f} jobs running on average).",
    ]
    if not hpo.empty:
        lines.append(
            f"HPO jobs ({', '.join(hpo)}): {rt.other_share(hpo):.1%} of their time is neither "
            "training nor evaluation."
        )
    return "\n".join(lines) + "\n"
