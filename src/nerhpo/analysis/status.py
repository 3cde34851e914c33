"""Where a run stands: one row per planned study (main studies, the comparison's repeats, the
sprint's rounds) with its state, trials and epochs done, best dev F1 so far and an ETA.

Why: a run takes hours to days, and neither Snakemake nor DVC says how far each study is. This
reads only what the studies leave on disk (``results/``: summary.json, best.json, trials.csv,
study.fingerprint and the saved Tune state in ``tune/``), the jobs' logs when there are any
(``logs/``) and params, so it works while Snakemake or DVC runs, after a kill, from a SLURM login
node and before anything ran. It asks no Ray cluster and imports neither Ray nor torch.

The state of a study, decided in this order:

* **done**: summary.json and best.json are there, no run of the study started since (a run
  first rewrites study.fingerprint), and they are current: best.json's seed, the trial count
  and the epochs per trial are the planned ones. Otherwise **outdated**: the results are for
  other settings, and the next run redoes the study. (The fingerprint hashes the data and the
  encoder too, which this does not read: a change of data alone is not seen.)
* **waiting**: nothing of it yet (no Tune state, no trials.csv, no fingerprint).
* **failed**: its job's log (Snakemake's; a DVC run writes none) ends in an error line written
  after its last file changed.
* **running**: a file of its Tune state (``experiment_state-*.json``, which a live driver saves
  every second, or a trial's progress.csv), its fingerprint or its log changed less than
  ``stale_after`` seconds ago, or a driver (``hpo.py``, ``repeats.py``, ``sprint.py``) for it
  runs on this machine.
* **failed** too: trials.csv without summary.json (a study writes it, then stops if no trial
  finished), or a Tune state whose trials all ended in ERROR.
* **stale**: anything else, i.e. an unfinished Tune state that no driver has touched for
  ``stale_after`` seconds: left by a killed job; the next run resumes it.

So a killed study reads as running for up to ``stale_after`` seconds (default 120) after the
kill, and then as stale. A driver seen alive (``live_drivers``) only ever keeps a study running
(a quiet spell: Ray starting, the best model being exported); its absence proves nothing, as a
driver may run on another node (SLURM, a Ray cluster) or be started otherwise than by the
scripts, so staleness always takes the threshold.

The ETA of a study is the mean ``epoch_seconds`` of its epochs (training and dev evaluation; the
trials' start-up and checkpointing are left out) times its epochs left (planned: num_samples x
max_epochs, an upper bound where a scheduler stops trials early), divided by its trials at once
(``hpo.concurrency``). A study with no epoch yet takes the mean over the finished studies (over
the unfinished ones while none has finished); before any epoch the ETA is unknown. The run's ETA
is the sum over the studies not done nor failed, divided by the studies run at once
(``parallel``, an estimate the caller gives).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from nerhpo.core import layout
from nerhpo.core.hparams import HPARAMS
from nerhpo.core.layout import under
from nerhpo.search.repeats import compared, extra_repeats, repeat_seed, study_dir
from nerhpo.search.study import METRIC
from nerhpo.search.tune_files import read_progress

STALE_AFTER_S = 120.0
STATES = ("waiting", "running", "done", "outdated", "failed", "stale")
DRIVERS = ("hpo.py", "repeats.py", "sprint.py", "objective.py")  # the scripts that run studies
ENDED = ("TERMINATED", "ERROR")  # a trial's status in Tune's state once it ran its course
# the jobs' logs under logs/, as workflow/rules/*.smk name them (a DVC run writes none)
MAIN_LOG = "hpo/{family}/{variant}/{algorithm}.log"
REPEATS_LOG = "repeats/{family}/{variant}/{algorithm}.log"
SPRINT_LOG = "sprint/{round}.log"
OBJECTIVE_LOG = "objective/{variant}.log"
SHORT = {  # the table's names of the hyperparameters
    "learning_rate": "lr",
    "weight_decay": "wd",
    "warmup_ratio": "wu",
    "attention_dropout": "ad",
    "hidden_dropout": "hd",
    "batch_size": "bs",
}


# -- the planned studies --------------------------------------------------------------------
@dataclass(frozen=True)
class Planned:
    """One study the run will have: where it lives and its budget."""

    name: str  # its folder under the results root, e.g. hpo/original/cased/asha
    kind: str  # main, repeat, sprint or objective
    directory: Path
    family: str
    variant: str
    algorithm: str
    seed: int
    trials: int
    max_epochs: int
    concurrency: int
    log: str  # its job's log, relative to the logs folder
    repeat: int | None = None


def grid_trials(space: dict) -> int:
    """A grid study's trials: one per combination of the ``grid`` (or choice) lists, as
    nerhpo.search.space.grid_space builds it (not imported here: it imports Ray)."""
    sizes = [len(spec.get("grid") or spec.get("values") or ()) for spec in space.values()]
    return math.prod(n for n in sizes if n)  # a parameter without a list stays at its default


def _budget(hpo: dict, algorithm: str) -> dict:
    trials = grid_trials(hpo["search_space"]) if algorithm == "grid" else hpo["num_samples"]
    return {"trials": int(trials), "max_epochs": int(hpo["max_epochs"])}


def _study(results: Path, kind: str, where: Path, fva, hpo: dict, seed, log, repeat=None):
    family, variant, algorithm = fva
    return Planned(
        name=where.relative_to(results).as_posix(),
        kind=kind,
        directory=where,
        family=family,
        variant=variant,
        algorithm=algorithm,
        seed=int(seed),
        **_budget(hpo, algorithm),
        concurrency=int(hpo["concurrency"]),
        log=log,
        repeat=repeat,
    )


def main_studies(params: dict, results: Path) -> list[Planned]:
    hpo = params["hpo"]
    out = []
    for f in hpo["families"]:
        for v in hpo["train_variants"]:
            for a in hpo["algorithms"]:
                where = under(results, layout.STUDY_DIR, family=f, variant=v, algorithm=a)
                log = MAIN_LOG.format(family=f, variant=v, algorithm=a)
                out.append(_study(results, "main", where, (f, v, a), hpo, params["seed"], log))
    return out


def repeat_studies(params: dict, results: Path) -> list[Planned]:
    """The comparison's repeats that are not a main study (nerhpo.search.repeats decides)."""
    out = []
    for f, v, a in compared(params):
        for k in extra_repeats(params, f, v, a):
            where = study_dir(params, f, v, a, k, results)
            seed = repeat_seed(params["seed"], k)
            log = REPEATS_LOG.format(family=f, variant=v, algorithm=a)
            out.append(_study(results, "repeat", where, (f, v, a), params["hpo"], seed, log, k))
    return out


def sprint_studies(params: dict, results: Path) -> list[Planned]:
    """The sprint's cheap and full rounds (none when the sprint is off)."""
    s = params["sprint"]
    if not s["enabled"]:
        return []
    hpo = params["hpo"]
    cheap = {**hpo, "num_samples": s["num_samples"], "max_epochs": s["max_epochs"]}
    rounds = (("cheap", layout.SPRINT_CHEAP_DIR, cheap), ("full", layout.SPRINT_FULL_DIR, hpo))
    fva, seed = (s["family"], s["variant"], s["algorithm"]), params["seed"]
    return [
        _study(results, "sprint", under(results, where), fva, h, seed, SPRINT_LOG.format(round=r))
        for r, where, h in rounds
    ]


def objective_studies(params: dict, results: Path) -> list[Planned]:
    """The robustness-aware objective's studies (none when objectives.enabled is false)."""
    o = params["objectives"]
    if not o["enabled"]:
        return []
    hpo = {**params["hpo"], "objective": o["objective"]}
    return [
        _study(
            results,
            "objective",
            under(results, layout.OBJECTIVE_DIR, variant=v),
            (o["family"], v, o["algorithm"]),
            hpo,
            params["seed"],
            OBJECTIVE_LOG.format(variant=v),
        )
        for v in o["train_variants"]
    ]


def planned_studies(params: dict, results: str | Path = layout.RESULTS) -> list[Planned]:
    """Every study of the run, in the order the table lists them."""
    results = Path(results)
    return [
        *main_studies(params, results),
        *repeat_studies(params, results),
        *sprint_studies(params, results),
        *objective_studies(params, results),
    ]


# -- what a study left on disk --------------------------------------------------------------
@dataclass
class Trial:
    """One trial of an unfinished study, from its progress.csv and Tune's saved state."""

    epochs: int = 0
    best_f1: float | None = None
    config: dict = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)
    status: str = ""


@dataclass
class Seen:
    """What a study's folder holds right now."""

    summary: dict | None = None
    best: dict | None = None
    trials_csv: pd.DataFrame | None = None
    trials: dict[str, Trial] = field(default_factory=dict)  # trial folder -> trial
    has_state: bool = False  # a Tune state, trials.csv or a fingerprint
    newest: float | None = None  # last change of any of them (epoch seconds)
    stamp: float | None = None  # study.fingerprint's mtime: when its last run started
    summary_time: float | None = None

    @property
    def finished(self) -> bool:
        """Results written, and no run of the study started since (a run first rewrites
        study.fingerprint; Snakemake and DVC also delete the old results, a run by hand not)."""
        if self.summary is None or self.best is None:
            return False
        return (
            self.stamp is None or self.summary_time is None or self.stamp <= self.summary_time + 1
        )


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:  # absent, or renamed away by an atomic write just now
        return None


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _csv(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path, dtype={"trial_id": str, "error": str})
    except (OSError, ValueError):  # absent, empty or cut off
        return None


def tune_statuses(tune_dir: Path) -> dict[str, str]:
    """trial folder name -> status (PENDING, RUNNING, PAUSED, TERMINATED, ERROR) in Tune's newest
    saved experiment state; empty if there is none or its format is not the known one (ray 2.60).
    By folder, not trial id: a reused actor may report another trial's id in progress.csv."""
    states = sorted(tune_dir.glob("experiment_state-*.json"))
    data = _json(states[-1]) if states else None
    out = {}
    for entry in data.get("trial_data", []) if isinstance(data, dict) else []:
        try:
            trial = json.loads(entry[0])
            out[str(trial["relative_logdir"])] = str(trial["status"])
        except (TypeError, ValueError, KeyError, IndexError):
            continue
    return out


def _trial(rows: pd.DataFrame, status: str) -> Trial:
    """A trial from its progress rows (one per epoch reported)."""
    trial = Trial(status=status)
    if rows.empty:
        return trial
    trial.epochs = int(rows["training_iteration"].max()) if "training_iteration" in rows else 0
    if "epoch_seconds" in rows:
        trial.epoch_seconds = rows["epoch_seconds"].dropna().astype(float).tolist()
    if METRIC in rows and rows[METRIC].notna().any():
        top = rows.loc[rows[METRIC].idxmax()]
        trial.best_f1 = float(top[METRIC])
        values = {k: top[f"hp_{k}"] for k in HPARAMS if f"hp_{k}" in top}
        trial.config = {k: v.item() if hasattr(v, "item") else v for k, v in values.items()}
    return trial


def read_trials(tune_dir: Path) -> tuple[dict[str, Trial], list[float]]:
    """The trials of a saved Tune state (by folder), and the mtimes of the files that show its
    driver alive: the experiment state (saved every second) and the trials' progress.csv."""
    statuses = tune_statuses(tune_dir)
    try:
        folders = {p.name for p in tune_dir.iterdir() if p.is_dir()} | set(statuses)
    except OSError:  # removed just now (a study started afresh)
        return {}, []
    trials = {
        name: _trial(read_progress(tune_dir / name), statuses.get(name, "")) for name in folders
    }
    paths = [*tune_dir.glob("experiment_state-*.json"), *tune_dir.glob("*/progress.csv")]
    return trials, [t for t in map(_mtime, paths) if t is not None]


def look(directory: Path) -> Seen:
    """Read a study's folder: its results if it finished, else its Tune state."""
    seen = Seen(stamp=_mtime(directory / "study.fingerprint"))
    seen.summary_time = _mtime(directory / "summary.json")
    seen.summary = _json(directory / "summary.json")
    seen.best = _json(directory / "best.json")
    seen.trials_csv = _csv(directory / "trials.csv")
    times = [t for t in (seen.stamp, _mtime(directory / "trials.csv")) if t is not None]
    tune_dir = directory / "tune"
    if not seen.finished and tune_dir.is_dir():
        seen.trials, tune_times = read_trials(tune_dir)
        times += tune_times
    seen.has_state = bool(times) or tune_dir.is_dir()
    seen.newest = max(times) if times else _mtime(tune_dir)
    return seen


# -- a study's row ----------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    kind: str
    family: str
    variant: str
    algorithm: str
    repeat: int | None
    state: str
    trials_done: int
    trials_planned: int
    epochs_done: int
    epochs_planned: int
    best_dev_f1: float | None
    config: dict
    elapsed_s: float | None
    eta_s: float | None
    epoch_s: float | None  # mean seconds per epoch, measured in this study
    note: str = ""
    concurrency: int = 1


def outdated_because(study: Planned, seen: Seen) -> str:
    """Why finished results are not the planned study's ('' if they are)."""
    seed = (seen.best or {}).get("seed")
    if seed is not None and int(seed) != study.seed:
        return f"results for seed {seed}, planned {study.seed}"
    trials = seen.summary.get("trials")
    if study.algorithm != "grid" and trials is not None and int(trials) != study.trials:
        return f"results of {trials} trials, planned {study.trials}"
    table = seen.trials_csv
    if table is not None and "epochs" in table and table["epochs"].max() > study.max_epochs:
        return f"trials of up to {table['epochs'].max()} epochs, planned {study.max_epochs}"
    return ""


def log_error(log: Path | None, after: float | None) -> str:
    """The error line a job's log ends with, if it was written after ``after``."""
    written = _mtime(log) if log is not None else None
    if written is None or (after is not None and written < after):
        return ""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, log.stat().st_size - 4096))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    word = last.split(":", 1)[0]
    return last if word == "error" or word.endswith(("Error", "Exception")) else ""


def _failed_note(seen: Seen) -> str:
    """Why an unfinished study that nothing updates failed ('' if nothing says it did)."""
    table = seen.trials_csv
    if seen.summary is None and table is not None and not table.empty:
        failed = int((table["status"] == "ERROR").sum()) if "status" in table else 0
        return f"trials.csv but no summary.json: {failed} of {len(table)} trials failed"
    statuses = [t.status for t in seen.trials.values()]
    if statuses and all(s == "ERROR" for s in statuses):
        return f"all {len(statuses)} trials of the Tune state failed"
    return ""


def classify(study: Planned, seen: Seen, now: float, stale_after: float, live: bool, log):
    """(state, note) of a study; see the module's docstring for the rules."""
    if seen.finished:
        why = outdated_because(study, seen)
        return ("outdated", why) if why else ("done", "")
    if not seen.has_state:
        return "waiting", ""
    log_time = _mtime(log) if log is not None else None
    error = log_error(log, seen.newest)
    if error:
        return "failed", error[:200]
    newest = max(t for t in (seen.newest, log_time, 0.0) if t is not None)
    if live or now - newest < stale_after:
        return "running", ""
    note = _failed_note(seen)
    if note:
        return "failed", note
    return "stale", f"no change for {duration(now - newest)}: the next run resumes its Tune state"


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _trials_done(study: Planned, seen: Seen) -> int:
    return sum(t.status in ENDED or t.epochs >= study.max_epochs for t in seen.trials.values())


def _best(trials: Iterable[Trial]) -> Trial | None:
    scored = [t for t in trials if t.best_f1 is not None]
    return max(scored, key=lambda t: t.best_f1) if scored else None


def _row(study: Planned, state: str, note: str, **values) -> Row:
    return Row(
        name=study.name,
        kind=study.kind,
        family=study.family,
        variant=study.variant,
        algorithm=study.algorithm,
        repeat=study.repeat,
        state=state,
        trials_planned=study.trials,
        epochs_planned=study.trials * study.max_epochs,
        note=note,
        concurrency=study.concurrency,
        **values,
    )


def finished_row(study: Planned, seen: Seen, state: str, note: str) -> Row:
    """A row from a finished study's trials.csv, best.json and summary.json."""
    summary, table = seen.summary, seen.trials_csv
    epochs = int(table["epochs"].sum()) if table is not None else int(summary.get("epochs", 0))
    work = summary.get("train_seconds", 0.0) + summary.get("eval_seconds", 0.0)
    return _row(
        study,
        state,
        note,
        trials_done=len(table) if table is not None else int(summary.get("trials", 0)),
        epochs_done=epochs,
        best_dev_f1=seen.best.get("dev_f1"),
        config=seen.best.get("config", {}),
        elapsed_s=summary.get("wall_seconds"),
        eta_s=0.0 if state == "done" else None,
        epoch_s=work / epochs if epochs and work else None,
    )


def unfinished_row(study: Planned, seen: Seen, state: str, note: str, now: float) -> Row:
    """A row from a study's saved Tune state (nothing yet for a waiting study); elapsed since its
    last run started (its fingerprint's mtime) until now, or until its last change."""
    trials = seen.trials.values()
    seconds = [s for t in trials for s in t.epoch_seconds]
    best = _best(trials)
    end = now if state == "running" else seen.newest
    elapsed = max(end - seen.stamp, 0.0) if seen.stamp is not None and end is not None else None
    return _row(
        study,
        state,
        note,
        trials_done=_trials_done(study, seen),
        epochs_done=sum(t.epochs for t in trials),
        best_dev_f1=best.best_f1 if best else None,
        config=best.config if best else {},
        elapsed_s=elapsed,
        eta_s=None,
        epoch_s=_mean(seconds),
    )


def study_row(study, now, stale_after, live: bool = False, logs: Path | None = None) -> Row:
    """The row of one planned study, from its folder (and its job's log, if there is one)."""
    seen = look(study.directory)
    log = logs / study.log if logs is not None else None
    state, note = classify(study, seen, now, stale_after, live, log)
    if state in ("done", "outdated"):
        return finished_row(study, seen, state, note)
    return unfinished_row(study, seen, state, note, now)


# -- ETA and the whole run --------------------------------------------------------------------
def fallback_epoch_s(rows: list[Row]) -> tuple[float | None, str]:
    """Seconds per epoch for a study with none measured, and what they come from."""
    done = [r.epoch_s for r in rows if r.state == "done" and r.epoch_s]
    if done:
        return _mean(done), "finished studies"
    measured = [r.epoch_s for r in rows if r.epoch_s]
    if measured:
        return _mean(measured), "unfinished studies (none finished yet)"
    return None, "none (no epoch measured yet)"


def with_eta(rows: list[Row]) -> tuple[list[Row], str]:
    """Each row's ETA: its epochs left x its seconds per epoch / its trials at once."""
    fallback, basis = fallback_epoch_s(rows)
    for row in rows:
        if row.state in ("done", "failed"):
            continue
        left = row.epochs_planned - (0 if row.state == "outdated" else row.epochs_done)
        per_epoch = row.epoch_s or fallback
        row.eta_s = None if per_epoch is None else max(left, 0) * per_epoch / row.concurrency
    return rows, basis


def run_total(rows: list[Row], parallel: int, basis: str) -> dict:
    """The whole run: studies and epochs done of planned, and the ETA of the rest."""
    todo = [r for r in rows if r.state not in ("done", "failed")]
    unknown = any(r.eta_s is None for r in todo)
    serial = sum((r.eta_s or 0.0 for r in todo), 0.0)
    counted = [r for r in rows if r.state != "outdated"]
    return {
        "studies": len(rows),
        "done": sum(r.state == "done" for r in rows),
        "states": {s: sum(r.state == s for r in rows) for s in STATES},
        "epochs_done": sum(r.epochs_done for r in counted),
        "epochs_planned": sum(r.epochs_planned for r in rows),
        "serial_eta_s": None if unknown else round(serial, 1),
        "parallel": parallel,
        "eta_s": None if unknown else round(serial / parallel, 1),
        "eta_basis": basis,
    }


def run_status(
    params: dict,
    results: str | Path = layout.RESULTS,
    *,
    now: float | None = None,
    stale_after: float = STALE_AFTER_S,
    live: Iterable[Path] = (),
    logs: str | Path | None = None,
    parallel: int = 1,
) -> dict:
    """Every planned study's row and the run's total: a function of the files (and ``now``,
    and the study folders ``live`` drivers work on, see ``live_drivers``)."""
    now = time.time() if now is None else now
    live = {Path(p).resolve() for p in live}
    logs = Path(logs) if logs is not None else None
    rows = [
        study_row(s, now, stale_after, _is_live(s, live), logs)
        for s in planned_studies(params, results)
    ]
    rows, basis = with_eta(rows)
    total = run_total(rows, max(1, int(parallel)), basis)
    rows_out = [asdict(r) for r in rows]
    return {"at": now, "rows": rows_out, "total": total, "stale_after_s": stale_after}


def _is_live(study: Planned, live: set[Path]) -> bool:
    """Whether a driver works on the study (a repeats job on its whole series)."""
    where = study.directory.resolve()
    return where in live or (study.kind == "repeat" and where.parent in live)


# -- drivers running on this machine ------------------------------------------------------------
def driver_folder(argv: list[str], cwd: Path) -> Path | None:
    """The study folder (a series folder for repeats.py) a driver's command line works on."""
    scripts = [a for a in argv if a.endswith(".py")]
    if not scripts or Path(scripts[0]).name not in DRIVERS:  # e.g. gpu_slot.py waiting
        return None
    out = None
    for i, arg in enumerate(argv):
        if arg == "--out" and i + 1 < len(argv):
            out = argv[i + 1]
        elif arg.startswith("--out="):
            out = arg.split("=", 1)[1]
    if out is None:
        return None
    path = (cwd / out).resolve()
    return path.parent if Path(scripts[0]).name == "repeats.py" else path


def live_drivers(proc: Path = Path("/proc")) -> set[Path]:
    """The folders of the studies whose drivers run on this machine (none where there is no
    /proc, e.g. macOS; a driver on another node, as under SLURM, is not seen)."""
    found = set()
    for entry in proc.glob("[0-9]*") if proc.is_dir() else []:
        try:
            argv = (entry / "cmdline").read_bytes().decode("utf-8", "replace").split("\0")
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:  # gone, or another user's
            continue
        folder = driver_folder([a for a in argv if a], cwd)
        if folder is not None:
            found.add(folder)
    return found


# -- showing it -------------------------------------------------------------------------------
def duration(seconds: float | None) -> str:
    """m:ss or h:mm:ss (0:04, 12:05, 3:02:00); '?' if unknown."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def short_config(config: dict) -> str:
    """The hyperparameters in a few characters each (SHORT): lr=0.0018 wd=0.044 ... bs=16."""
    parts = []
    for name in HPARAMS:
        if name in config and config[name] is not None and not pd.isna(config[name]):
            value = config[name]
            text = f"{value:.2g}" if isinstance(value, float) and value != int(value) else value
            parts.append(f"{SHORT.get(name, name)}={text}")
    return " ".join(parts)


STYLE = {
    "done": "green",
    "running": "cyan",
    "waiting": "dim",
    "failed": "bold red",
    "stale": "yellow",
    "outdated": "magenta",
}


def total_line(total: dict) -> str:
    """The whole run in one line."""
    states = ", ".join(f"{n} {s}" for s, n in total["states"].items() if n)
    n = total["parallel"]
    if total["eta_s"] is None:
        eta = f"ETA unknown: per-epoch times from {total['eta_basis']}"
    else:
        eta = (
            f"ETA {duration(total['eta_s'])} with {n} {'job' if n == 1 else 'jobs'} at once "
            f"(--parallel), per-epoch times from {total['eta_basis']}"
        )
    return (
        f"total: {total['done']}/{total['studies']} studies done ({states}); "
        f"{total['epochs_done']}/{total['epochs_planned']} epochs (at most); {eta}"
    )


COLUMNS = ("study", "state", "trials", "epochs", "best F1", "elapsed", "ETA", "configuration")
WIDE = 140  # from this many terminal columns on, the configuration has a column of its own


def cells(row: dict, wide: bool) -> list:
    """A row's cells in the order of COLUMNS (the configuration under the study if not wide)."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    config = short_config(row["config"])
    study = Text(row["name"], no_wrap=True, overflow="ellipsis")
    if config and not wide:
        study = Group(study, Padding(Text(config, style="dim"), (0, 0, 0, 2)))
    f1 = "" if row["best_dev_f1"] is None else f"{row['best_dev_f1']:.4f}"
    out = [
        study,
        Text(row["state"], style=STYLE[row["state"]]),
        f"{row['trials_done']}/{row['trials_planned']}",
        f"{row['epochs_done']}/{row['epochs_planned']}",
        f1,
        "" if row["elapsed_s"] is None else duration(row["elapsed_s"]),
        "" if row["state"] in ("done", "failed") else duration(row["eta_s"]),
    ]
    return out + [config] if wide else out


def render(status: dict, width: int = WIDE):
    """The status as a rich table for a terminal ``width`` columns wide, the rows' notes and the
    total line."""
    from rich.box import SIMPLE_HEAD
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    wide = width >= WIDE
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status["at"]))
    table = Table(title=f"nerhpo studies at {at}", title_justify="left", box=SIMPLE_HEAD)
    for name in COLUMNS if wide else COLUMNS[:-1]:
        # in a wide terminal only the configuration wraps; in a narrow one, the study's
        # name and configuration (under it) do
        table.add_column(
            name,
            justify="left" if name in ("study", "state", "configuration") else "right",
            no_wrap=name != "configuration" and (wide or name != "study"),
            overflow="fold",
        )
    for r in status["rows"]:
        table.add_row(*cells(r, wide))
    notes = [Text(f"{r['name']}: {r['note']}", style="dim") for r in status["rows"] if r["note"]]
    return Group(table, *notes, Text(total_line(status["total"]), style="bold"))
