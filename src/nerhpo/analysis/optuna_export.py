"""Every study of a run as an Optuna study in one JournalStorage file, for optuna-dashboard.

Why: Ray Tune's own views end with the job. Optuna's dashboard shows any study in a journal
file (history, importance, parallel coordinates, intermediate values per epoch) without a
database or a server of ours: ``optuna-dashboard results/optuna.journal``.

One Optuna study per job, named by its folder (``hpo/original/cased/asha``,
``repeats/.../r1``, ``sprint/cheap``). A trial that ran to its last epoch is COMPLETE with its
best dev F1; one an algorithm stopped early is PRUNED (its epochs stay as intermediate
values); one that failed is FAIL. PBT changes a trial's hyperparameters as it goes: its trials
carry the configuration they ended with, in ranges stretched to what PBT reached.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from nerhpo.core.atomic import make_dirs
from nerhpo.core.result_files import read_csv
from nerhpo.search.tune_files import read_progress

STUDY_ROOTS = ("hpo", "repeats", "sprint")
TRIAL_ID = {"trial_id": str}  # ids such as 4e139717 would read as numbers


class ExportError(RuntimeError):
    """A study's files cannot be turned into an Optuna study (one line)."""


def distributions(search_space: dict) -> dict:
    """params' ``hpo.search_space`` as Optuna distributions."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out = {}
    for name, spec in search_space.items():
        kind = spec["type"]
        if kind == "choice":
            out[name] = CategoricalDistribution(list(spec["values"]))
        elif kind == "int":
            out[name] = IntDistribution(int(spec["low"]), int(spec["high"]))
        else:
            out[name] = FloatDistribution(spec["low"], spec["high"], log=kind == "loguniform")
    return out


def _param(value, distribution):
    """A trials.csv cell as the distribution's value (CSV turns 16 into 16 or "16")."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        for choice in distribution.choices:
            if str(choice) == str(value) or (
                isinstance(choice, int | float) and float(choice) == float(value)
            ):
                return choice
        raise ExportError(f"value {value!r} is not one of {list(distribution.choices)}")
    if isinstance(distribution, IntDistribution):
        return int(value)
    return float(value)


def widened(distribution, values: pd.Series):
    """The distribution stretched to the values seen: PBT's perturbations (x0.8, x1.2) and a
    sprint's narrowed space leave params' search space, and Optuna refuses a trial outside
    its distribution."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(distribution, CategoricalDistribution):
        choices = list(distribution.choices)
        known = {str(c) for c in choices}
        cast = int if all(isinstance(c, int) for c in choices) else type(choices[0])
        extra = sorted({cast(v) for v in values.dropna() if str(cast(v)) not in known})
        return CategoricalDistribution(choices + extra) if extra else distribution
    seen = pd.to_numeric(values, errors="coerce").dropna()
    if seen.empty:
        return distribution
    low, high = min(distribution.low, seen.min()), max(distribution.high, seen.max())
    if isinstance(distribution, IntDistribution):
        return IntDistribution(int(low), int(high))
    return FloatDistribution(float(low), float(high), log=distribution.log)


def epoch_values(study_dir: Path) -> dict[str, dict[int, float]]:
    """trial_id -> {epoch: dev F1} from the Tune state's progress files (none without them)."""
    values: dict[str, dict[int, float]] = {}
    for path in sorted((study_dir / "tune").glob("*/progress.csv")):
        frame = read_progress(path.parent, dtype=TRIAL_ID)
        if frame.empty or "dev_f1" not in frame or "trial_id" not in frame:
            continue
        for trial_id, rows in frame.groupby("trial_id"):
            steps = rows.get("training_iteration", pd.Series(range(1, len(rows) + 1)))
            values.setdefault(trial_id, {}).update(
                {int(s): float(f) for s, f in zip(steps, rows["dev_f1"]) if not pd.isna(f)}
            )
    return values


def frozen_trials(study_dir: Path, space: dict) -> list:
    """The study's trials (trials.csv and the per-epoch scores) as Optuna FrozenTrials."""
    from optuna.trial import TrialState, create_trial

    trials = read_csv(study_dir / "trials.csv", ExportError, dtype=TRIAL_ID)
    curves = epoch_values(study_dir)
    dists = {k: widened(v, trials[k]) for k, v in distributions(space).items() if k in trials}
    out = []
    for row in trials.to_dict("records"):
        intermediate = curves.get(str(row.get("trial_id")), {})
        score = row.get("best_dev_f1")
        status = str(row.get("status", ""))
        if status == "ERROR" or score is None or math.isnan(float(score)):
            state, value = TrialState.FAIL, None
        elif status == "STOPPED":
            state, value = TrialState.PRUNED, None
        else:
            state, value = TrialState.COMPLETE, float(score)
        try:
            params = {k: _param(row[k], d) for k, d in dists.items() if not pd.isna(row[k])}
        except ExportError as err:
            raise ExportError(
                f"{study_dir / 'trials.csv'}: trial {row.get('trial')}: {err}"
            ) from None
        out.append(
            create_trial(
                state=state,
                value=value,
                params=params,
                distributions={k: dists[k] for k in params},
                intermediate_values=intermediate,
                user_attrs={
                    "trial_id": str(row.get("trial_id")),
                    "epochs": int(row.get("epochs") or 0),
                    "best_dev_f1": None if pd.isna(score) else float(score),
                },
            )
        )
    return out


def study_dirs(results: str | Path) -> list[Path]:
    """Every folder with a trials.csv under the study roots, in a stable order."""
    root = Path(results)
    found = [p.parent for r in STUDY_ROOTS for p in sorted((root / r).rglob("trials.csv"))]
    return [d for d in found if "tune" not in d.parts]


def export_journal(results: str | Path, search_space: dict, journal: str | Path) -> list[str]:
    """Write ``journal`` afresh (built beside it, then renamed): one study per study folder.
    Returns the study names."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    journal = Path(journal)
    make_dirs(journal.parent)
    building = journal.with_name(f".{journal.name}.building")
    building.unlink(missing_ok=True)
    storage = JournalStorage(JournalFileBackend(str(building)))
    names = []
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for folder in study_dirs(results):
        name = folder.relative_to(results).as_posix()
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
        study.add_trials(frozen_trials(folder, search_space))
        names.append(name)
    if not names:
        building.unlink(missing_ok=True)
        raise ExportError(f"{results}: no study folder (trials.csv) under {', '.join(STUDY_ROOTS)}")
    os.replace(building, journal)
    return names
