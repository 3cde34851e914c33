"""Findings across all HPO studies: which algorithm, which hyperparameters, which ranges.

Why: the report's tables show every number; this module turns them into the few claims a
reader needs (winner, importance, search-space borders, learning-rate patterns, failures),
each stated with its number, its spread and its n, so that no claim outruns its evidence.
Choices are made on dev F1 only; test F1 is reported for the chosen models, never used to choose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nerhpo.analysis.figures import pyplot, save_png
from nerhpo.core.hparams import HPARAMS
from nerhpo.core.layout import EVAL_FILE, STUDY_DIR, under
from nerhpo.core.result_files import read_csv, read_json

MIN_TRIALS = 5  # fewer finished trials than this give no importance at all
FIGSIZE = (7.0, 4.5)
MISSING = "–"


class FindingsError(ValueError):
    """Missing or unreadable inputs; the script reports it as one line."""


# -- inputs -----------------------------------------------------------------------------------
def _studies(families, variants, algorithms) -> Iterable[tuple[str, str, str]]:
    for family in families:
        for variant in variants:
            for algorithm in algorithms:
                yield family, variant, algorithm


def load_trials(
    results_dir: str | Path,
    families: Sequence[str],
    variants: Sequence[str],
    algorithms: Sequence[str],
) -> pd.DataFrame:
    """All trials of all studies in one table, with family/variant/algorithm columns.

    Why one table: importance and patterns pool the trials of every study. A missing
    trials.csv is an error (naming the file), so findings never silently skip a study.
    """
    frames = []
    for family, variant, algorithm in _studies(families, variants, algorithms):
        study = under(results_dir, STUDY_DIR, family=family, variant=variant, algorithm=algorithm)
        path = study / "trials.csv"
        frame = read_csv(path, FindingsError, dtype={"trial_id": str, "error": str})
        frame.insert(0, "algorithm", algorithm)
        frame.insert(0, "variant", variant)
        frame.insert(0, "family", family)
        frames.append(frame)
    if not frames:
        raise FindingsError("no studies: hpo.families, train_variants or algorithms is empty")
    trials = pd.concat(frames, ignore_index=True)
    trials["best_dev_f1"] = pd.to_numeric(trials.get("best_dev_f1"), errors="coerce")
    if "error" in trials:
        trials["error"] = trials["error"].fillna("")
    return trials


def load_best(
    results_dir: str | Path,
    families: Sequence[str],
    variants: Sequence[str],
    algorithms: Sequence[str],
) -> list[dict]:
    """Each study's best.json (the configuration chosen on dev F1)."""
    out = []
    for family, variant, algorithm in _studies(families, variants, algorithms):
        study = under(results_dir, STUDY_DIR, family=family, variant=variant, algorithm=algorithm)
        best = read_json(study / "best.json", FindingsError)
        best.setdefault("family", family)
        best.setdefault("train_variant", variant)
        best.setdefault("algorithm", algorithm)
        out.append(best)
    return out


def load_test_scores(results_dir: str | Path, best: Sequence[dict]) -> dict[str, float]:
    """Test F1 of each chosen model on its own training variant, where evaluated.

    Only read for reporting; nothing in this module chooses by it. Missing files are skipped
    (evaluation may not have run yet).
    """
    out = {}
    for b in best:
        path = under(
            results_dir,
            EVAL_FILE,
            family=b["family"],
            variant=b["train_variant"],
            algorithm=b["algorithm"],
        )
        if not path.is_file():
            continue
        scores = read_json(path, FindingsError).get("scores", {})
        value = scores.get("test", {}).get(b["train_variant"], {}).get("f1")
        if value is not None:
            out[_tag(b)] = float(value)
    return out


def _tag(best: dict) -> str:
    return f"{best['family']}/{best['train_variant']}/{best['algorithm']}"


def finished(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials that produced a dev F1 (not ERROR, F1 not NaN)."""
    ok = trials["best_dev_f1"].notna()
    if "status" in trials:
        ok &= trials["status"].astype(str) != "ERROR"
    return trials[ok]


# -- importance -------------------------------------------------------------------------------
def _py(value):
    """numpy scalar -> Python scalar (optuna and JSON want plain values)."""
    return value.item() if isinstance(value, np.generic) else value


def _distributions(space: dict, frame: pd.DataFrame) -> dict:
    """optuna distributions from params' search space, widened to cover the observed values.

    Why widen: PBT perturbs values beyond the sampled range, and optuna rejects a trial whose
    value lies outside its distribution.
    """
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out = {}
    for name, spec in space.items():
        if name not in frame:
            continue
        kind = spec["type"]
        if kind == "choice":
            choices = list(spec["values"])
            for value in (_py(v) for v in pd.unique(frame[name])):
                if not any(value == c for c in choices):
                    choices.append(value)
            out[name] = CategoricalDistribution(choices)
            continue
        low = min(float(spec["low"]), float(frame[name].min()))
        high = max(float(spec["high"]), float(frame[name].max()))
        if kind == "loguniform":
            out[name] = FloatDistribution(low, high, log=True)
        elif kind == "uniform":
            out[name] = FloatDistribution(low, high)
        elif kind == "int":
            out[name] = IntDistribution(math.floor(low), math.ceil(high))
        else:
            raise FindingsError(f"hpo.search_space.{name}.type: unknown {kind!r}")
    return out


def _param_value(distribution, value):
    from optuna.distributions import CategoricalDistribution, IntDistribution

    value = _py(value)
    if isinstance(distribution, CategoricalDistribution):
        return next(c for c in distribution.choices if value == c)
    if isinstance(distribution, IntDistribution):
        return int(round(value))
    return float(value)


def _fanova(frame: pd.DataFrame, distributions: dict, seed: int, n_trees: int) -> dict:
    """Raw (unnormalised) fANOVA main-effect fractions of variance, per parameter."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    names = list(distributions)
    for row in frame[names + ["best_dev_f1"]].itertuples(index=False):
        values = dict(zip(names, row[:-1]))
        study.add_trial(
            optuna.trial.create_trial(
                params={n: _param_value(distributions[n], values[n]) for n in names},
                distributions=distributions,
                value=float(row[-1]),
            )
        )
    evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=n_trees, seed=seed)
    return evaluator.evaluate(study)


def importance(
    trials: pd.DataFrame,
    space: dict,
    seed: int = 0,
    n_bootstrap: int = 5,
    n_trees: int = 64,
) -> pd.DataFrame:
    """fANOVA importance of each hyperparameter for best dev F1, normalised to sum 1.

    Why fANOVA: it splits the variance of F1 over the search space into per-parameter main
    effects, so "learning rate matters most" becomes a number. Uses finished trials only
    (ERROR and NaN F1 excluded). ``std`` is the spread over ``n_bootstrap`` resamples of the
    trials (data uncertainty, not just forest noise). Caveat: early-stopped trials report a
    best dev F1 after fewer epochs, so importance partly reflects which configurations survive
    early stopping. Deterministic for a fixed ``seed``.

    Returns columns ``param, importance, std`` sorted by importance; ``attrs`` hold ``n``
    (trials used), ``main_effects`` (share of the forest's variance the main effects explain,
    before normalising) and ``message`` (why the table is empty, if it is).
    """
    frame = finished(trials)
    names = [n for n in space if n in frame]
    frame = frame.dropna(subset=names).reset_index(drop=True)
    empty = pd.DataFrame({"param": pd.Series(dtype=str), "importance": [], "std": []})
    empty.attrs.update(n=len(frame), main_effects=math.nan, message="")
    if len(frame) < MIN_TRIALS:
        empty.attrs["message"] = (
            f"Importance not computed: {len(frame)} finished trial(s), at least {MIN_TRIALS} "
            "are needed for a meaningful fANOVA."
        )
        return empty
    if frame["best_dev_f1"].nunique() < 2:
        empty.attrs["message"] = (
            f"Importance not computed: all {len(frame)} finished trials have the same dev F1."
        )
        return empty
    distributions = _distributions({n: space[n] for n in names}, frame)
    raw = _fanova(frame, distributions, seed, n_trees)
    total = sum(raw.values())
    if total <= 0:
        empty.attrs["message"] = (
            "Importance not computed: the fANOVA forest explains none of the dev F1 variance."
        )
        return empty
    rng = np.random.default_rng(seed)
    boots = []
    for b in range(n_bootstrap):
        sample = frame.iloc[rng.integers(0, len(frame), len(frame))]
        if sample["best_dev_f1"].nunique() < 2:
            continue
        r = _fanova(sample, distributions, seed + 1 + b, n_trees)
        s = sum(r.values())
        if s > 0:
            boots.append({k: v / s for k, v in r.items()})
    rows = [
        {
            "param": name,
            "importance": raw[name] / total,
            "std": float(np.std([b[name] for b in boots], ddof=1)) if len(boots) > 1 else math.nan,
        }
        for name in names
    ]
    out = pd.DataFrame(rows).sort_values(["importance", "param"], ascending=[False, True])
    out = out.reset_index(drop=True)
    out.attrs.update(n=len(frame), main_effects=float(min(1.0, total)), message="")
    return out


# -- search-space borders ---------------------------------------------------------------------
def _position(spec: dict, value: float) -> float:
    """Where ``value`` sits in its range: 0 at low, 1 at high (log scale for loguniform)."""
    low, high = float(spec["low"]), float(spec["high"])
    if high == low:
        return 0.5
    if spec["type"] == "loguniform":
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (value - low) / (high - low)


def _upper_limit(name: str) -> float:
    """Natural ceiling of a parameter: dropouts and ratios cannot exceed 1."""
    return 1.0 if ("dropout" in name or "ratio" in name) else math.inf


def _suggest(name: str, spec: dict, side: str) -> tuple[list | None, str]:
    """A wider range on the flagged side, or None with the reason it cannot widen."""
    kind = spec["type"]
    low, high = spec["low"], spec["high"]
    if kind == "loguniform":
        factor = (high / low) ** 0.5
        return ([low / factor, high] if side == "low" else [low, high * factor]), ""
    half = (high - low) / 2
    if kind == "int":
        half = max(1, int(round(half)))
    if side == "low":
        floor = 0 if low >= 0 else -math.inf
        new = max(floor, low - half)
        if new >= low:
            return None, f"{low:g} is already the natural limit"
        return [new, high], ""
    ceiling = _upper_limit(name)
    new = min(ceiling, high + half)
    if new <= high:
        return None, f"{high:g} is already the natural limit"
    return [low, new], ""


def _suggest_choice(values: list, side: str) -> tuple[list | None, str]:
    """Extend numeric, sorted choices by one value with the same step (ratio if geometric)."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if not numeric or list(values) != sorted(values) or len(values) < 2:
        return None, "add a value beyond this end"
    a, b = (values[0], values[1]) if side == "low" else (values[-2], values[-1])
    if a > 0 and b / a == round(b / a) and b / a > 1:  # geometric (8, 16, 32)
        ratio = b / a
        new = values[0] / ratio if side == "low" else values[-1] * ratio
    else:
        step = b - a
        new = values[0] - step if side == "low" else values[-1] + step
    if all(isinstance(v, int) for v in values) and float(new).is_integer():
        new = int(new)
    if side == "low" and new <= 0 < values[0]:
        return None, f"{values[0]} is already the smallest sensible value"
    return ([new, *values] if side == "low" else [*values, new]), ""


def border_check(best_configs: Sequence[dict], space: dict, margin: float = 0.1) -> list[dict]:
    """Flag best values within ``margin`` of a range bound (log scale for loguniform).

    Why: a best configuration at the edge of the search space suggests the optimum may lie
    outside it, so the range should widen on that side. Choices at their first or last value
    are flagged too. Each flag names the study (if known), parameter, value, bound and a
    suggested range (``None`` with a ``note`` when the bound is a natural limit such as 0).
    ``best_configs`` are best.json dicts (with ``config``) or plain configuration dicts.
    """
    flags = []
    for i, best in enumerate(best_configs):
        config = best.get("config", best)
        study = _tag(best) if {"family", "train_variant", "algorithm"} <= best.keys() else str(i)
        for name, spec in space.items():
            if name not in config or config[name] is None:
                continue
            value = _py(config[name])
            if spec["type"] == "choice":
                values = list(spec["values"])
                if len(values) < 2:
                    continue
                if value == values[0]:
                    side, bound_value, position = "low", values[0], 0.0
                elif value == values[-1]:
                    side, bound_value, position = "high", values[-1], 1.0
                else:
                    continue
                suggested, note = _suggest_choice(values, side)
            else:
                position = _position(spec, float(value))
                if position <= margin:
                    side, bound_value = "low", spec["low"]
                elif position >= 1 - margin:
                    side, bound_value = "high", spec["high"]
                else:
                    continue
                suggested, note = _suggest(name, spec, side)
            flags.append(
                {
                    "study": study,
                    "param": name,
                    "value": value,
                    "bound": side,
                    "bound_value": bound_value,
                    "position": round(float(position), 4),
                    "outside": bool(position < 0 or position > 1),
                    "current": list(spec["values"])
                    if spec["type"] == "choice"
                    else [spec["low"], spec["high"]],
                    "suggested": suggested,
                    "note": note,
                }
            )
    return flags


# -- patterns ---------------------------------------------------------------------------------
def _edges(values: pd.Series, bins: int, log: bool) -> np.ndarray:
    """``bins`` equal-width edges (log10 scale if ``log``) spanning exactly the observed values."""
    low, high = float(values.min()), float(values.max())
    if high <= low:  # one value: one bin around it
        return np.array([low * 0.999, high * 1.001] if log else [low - 1e-3, high + 1e-3])
    if log:
        edges = 10 ** np.linspace(math.log10(low), math.log10(high), bins + 1)
    else:
        edges = np.linspace(low, high, bins + 1)
    edges[0], edges[-1] = low, high  # no value lost to rounding at the ends
    return edges


def _binned(values: pd.Series, edges: np.ndarray, fmt: str) -> pd.Series:
    labels = [f"{format(a, fmt)}–{format(b, fmt)}" for a, b in zip(edges[:-1], edges[1:])]
    digits = 1
    while len(set(labels)) < len(labels) and digits < 8:  # close edges: print more digits
        digits += 1
        wider = fmt.replace(".1", f".{digits}")
        labels = [f"{format(a, wider)}–{format(b, wider)}" for a, b in zip(edges[:-1], edges[1:])]
    if len(set(labels)) < len(labels):
        labels = [f"bin {i + 1}" for i in range(len(labels))]
    return pd.cut(values, edges, labels=labels, include_lowest=True)


def _grid(frame: pd.DataFrame, row: str, col: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    grouped = frame.groupby([row, col], observed=False)["best_dev_f1"]
    mean = grouped.mean().unstack(col)
    count = grouped.count().unstack(col).fillna(0).astype(int)
    return mean, count


def patterns(trials: pd.DataFrame, bins: int = 4) -> dict:
    """Learning rate against batch size and warm-up: mean dev F1 per cell, with counts.

    Why: learning rate interacts with batch size and warm-up; a heat map shows which corner
    works and which breaks. Learning rate is binned into ``bins`` equal bins in log space,
    warm-up ratio into ``bins`` equal bins, over the observed values of finished trials.
    Returns ``lr_batch`` / ``lr_warmup`` (mean F1, rows = lr bins), ``lr_batch_n`` /
    ``lr_warmup_n`` (trial counts), and ``failures``: every trial with status ERROR or no
    dev F1, with its study, hyperparameters and error.
    """
    ok = finished(trials)
    out: dict = {"lr_batch": None, "lr_batch_n": None, "lr_warmup": None, "lr_warmup_n": None}
    if len(ok) and "learning_rate" in ok:
        frame = ok.copy()
        frame["lr"] = _binned(
            frame["learning_rate"], _edges(frame["learning_rate"], bins, True), ".1e"
        )
        if "batch_size" in frame:
            frame["batch"] = frame["batch_size"].astype(int)
            out["lr_batch"], out["lr_batch_n"] = _grid(frame, "lr", "batch")
        if "warmup_ratio" in frame:
            edges = _edges(frame["warmup_ratio"], bins, False)
            frame["warmup"] = _binned(frame["warmup_ratio"], edges, ".3f")
            out["lr_warmup"], out["lr_warmup_n"] = _grid(frame, "lr", "warmup")
    failed = trials.drop(ok.index)
    keys = [k for k in ("family", "variant", "algorithm", "trial_id", "status") if k in failed]
    out["failures"] = [
        {
            **{k: _py(r[k]) for k in keys},
            **{h: _py(r[h]) for h in HPARAMS if h in failed},
            "error": str(r.get("error", "") or ""),
        }
        for _, r in failed.iterrows()
    ]
    return out


# -- markdown ---------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pm(values: Sequence[float]) -> str:
    """'mean ± std (n=k)'; std is the sample std, absent for n=1."""
    if not values:
        return MISSING
    mean = float(np.mean(values))
    if len(values) < 2:
        return f"{mean:.4f} (n=1, no spread)"
    return f"{mean:.4f} ± {float(np.std(values, ddof=1)):.4f} (n={len(values)})"


def algorithm_summary(best: Sequence[dict], test_scores: dict[str, float] | None = None):
    """Per algorithm: mean and sample std of its studies' best dev F1 (and test F1, if known)."""
    test_scores = test_scores or {}
    rows = []
    for algorithm in dict.fromkeys(b["algorithm"] for b in best):
        own = [b for b in best if b["algorithm"] == algorithm and b.get("dev_f1") is not None]
        dev = [float(b["dev_f1"]) for b in own]
        test = [test_scores[_tag(b)] for b in own if _tag(b) in test_scores]
        rows.append(
            {
                "algorithm": algorithm,
                "n": len(dev),
                "dev_mean": float(np.mean(dev)) if dev else math.nan,
                "dev_std": float(np.std(dev, ddof=1)) if len(dev) > 1 else math.nan,
                "dev": dev,
                "test": test,
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(["dev_mean", "algorithm"], ascending=[False, True]).reset_index(
        drop=True
    )


def _paired_wins(best: Sequence[dict], winner: str, other: str) -> tuple[int, int, int]:
    """In how many (family, variant) studies the winner's best dev F1 beat the other's, in how
    many both exported the same configuration, and how many pairs there are."""
    by = {(b["family"], b["train_variant"], b["algorithm"]): b for b in best}
    wins = same = total = 0
    for family, variant, algorithm in by:
        if algorithm != winner:
            continue
        a, b = by[(family, variant, winner)], by.get((family, variant, other))
        if a is None or b is None or a.get("dev_f1") is None or b.get("dev_f1") is None:
            continue
        total += 1
        wins += float(a["dev_f1"]) > float(b["dev_f1"])
        same += bool(a.get("config")) and a.get("config") == b.get("config")
    return wins, same, total


def _winner_text(best: Sequence[dict], summary: pd.DataFrame) -> str:
    if summary.empty or summary["n"].sum() == 0:
        return "No study has a best dev F1 yet."
    top = summary.iloc[0]
    text = (
        f"**Best algorithm (by dev F1).** `{top.algorithm}` has the highest mean best dev F1 "
        f"across its studies: {_pm(top.dev)}."
    )
    if len(summary) < 2:
        return text + " It is the only algorithm, so there is nothing to compare it with."
    second = summary.iloc[1]
    gap = top.dev_mean - second.dev_mean
    spread = max(top.dev_std, second.dev_std)
    text += f" Runner-up `{second.algorithm}`: {_pm(second.dev)}; gap {gap:.4f}."
    if math.isnan(spread):
        text += " With one study per algorithm there is no spread to judge the gap against."
    elif gap < spread:
        text += (
            f" The gap is smaller than the larger std ({spread:.4f}): not distinguishable from "
            "seed/trial noise on this evidence."
        )
    else:
        text += (
            f" The gap exceeds the larger std ({spread:.4f}), a consistent but, with "
            f"n={int(top.n)} and n={int(second.n)} studies, not a significance-tested difference."
        )
    wins, same, total = _paired_wins(best, top.algorithm, second.algorithm)
    if total:
        text += (
            f" Paired by family and training variant, `{top.algorithm}` beat "
            f"`{second.algorithm}` in {wins} of {total} studies."
        )
    if same:
        text += (
            f" In {same} of {total} they exported the same configuration: both draw the same "
            "seeded first trials, and there their stopping or exploiting did not change which "
            "trial was best, so those studies say nothing about the algorithms themselves."
        )
    return text


def _error_cell(error: str) -> str:
    """First line of an error, shortened, safe inside a table cell."""
    lines = str(error or "").strip().splitlines()
    return lines[0][:120].replace("|", "\\|") if lines else MISSING


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 0.01 or abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def _range(values) -> str:
    if values is None:
        return MISSING
    return "[" + ", ".join(_fmt(_py(v)) for v in values) + "]"


def _heat_text(mean: pd.DataFrame | None, count: pd.DataFrame | None, col: str) -> str:
    if mean is None or mean.empty:
        return "No finished trials with these columns."
    headers = ["learning rate \\ " + col, *[str(c) for c in mean.columns]]
    rows = [
        [str(idx)]
        + [
            MISSING if pd.isna(mean.at[idx, c]) else f"{mean.at[idx, c]:.3f} (n={count.at[idx, c]})"
            for c in mean.columns
        ]
        for idx in mean.index
    ]
    stacked = mean.stack().dropna()
    text = _table(headers, rows)
    if len(stacked):
        hi, lo = stacked.idxmax(), stacked.idxmin()
        text += (
            f"\n\nHighest cell: lr {hi[0]}, {col} {hi[1]}: {stacked[hi]:.3f} "
            f"(n={count.at[hi[0], hi[1]]}); lowest: lr {lo[0]}, {col} {lo[1]}: "
            f"{stacked[lo]:.3f} (n={count.at[lo[0], lo[1]]}). Cells with n < 3 are anecdotes."
        )
    return text


def findings_markdown(
    trials: pd.DataFrame,
    best: Sequence[dict],
    importances: pd.DataFrame,
    flags: Sequence[dict],
    pats: dict,
    *,
    test_scores: dict[str, float] | None = None,
    margin: float = 0.1,
    seed: int | None = None,
    title: str = "## Findings",
    comparison: str | None = None,
    casing: str | None = None,
    sprint: str | None = None,
) -> str:
    """The README's "Findings" section; every claim carries its number, spread and n.

    ``comparison`` (repeated studies, re-trained winners; nerhpo.analysis.compare) comes first, as the
    answer to "which method to trust"; ``casing`` (nerhpo.analysis.casing) right after the
    algorithms, as the answer to "which training variant is robust"; ``sprint``
    (nerhpo.analysis.sprint) after the heat maps.
    """
    parts = [title] if title else []
    parts += _overview_part(trials)
    if comparison:
        parts.append(comparison.strip())
        parts.append("### All main studies (one HPO seed each)")
    parts += _algorithms_part(best, test_scores)
    if casing:
        parts.append(casing.strip())
    parts += _importance_part(importances, seed)
    parts += _borders_part(flags, best, margin)
    parts += _patterns_part(pats)
    if sprint:
        parts.append(sprint.strip())
    parts += _failures_part(pats.get("failures", []), trials)
    return "\n\n".join(parts) + "\n"


def _overview_part(trials: pd.DataFrame) -> list[str]:
    ok = finished(trials)
    studies = trials.groupby(["family", "variant", "algorithm"]).ngroups if len(trials) else 0
    stopped = int((ok["status"].astype(str) == "STOPPED").sum()) if "status" in ok else 0
    return [
        f"From {len(trials)} trials ({len(ok)} finished, {stopped} of them stopped early) in "
        f"{studies} studies. Models and "
        "hyperparameters are chosen on dev F1 only; test F1 is reported for the chosen models "
        "and never used to choose."
    ]


def _algorithms_part(best: Sequence[dict], test_scores: dict[str, float] | None) -> list[str]:
    summary = algorithm_summary(best, test_scores)
    parts = [_winner_text(best, summary)]
    if not summary.empty:
        rows = [
            [f"`{r.algorithm}`", str(r.n), _pm(r.dev), _pm(r.test)] for r in summary.itertuples()
        ]
        headers = ["algorithm", "studies", "best dev F1", "test F1 on own variant (reported only)"]
        parts.append(_table(headers, rows) + "\n\nmean ± sample std over studies (n).")
    return parts


def _importance_part(importances: pd.DataFrame, seed: int | None) -> list[str]:
    parts = ["### Hyperparameter importance"]
    if importances.empty:
        parts.append(importances.attrs.get("message") or "Importance not computed.")
        return parts
    attrs = importances.attrs
    rows = [
        [
            f"`{r.param}`",
            f"{r.importance:.3f}",
            MISSING if math.isnan(r.std) else f"{r.std:.3f}",
        ]
        for r in importances.itertuples()
    ]
    parts.append(
        f"fANOVA on {attrs.get('n', MISSING)} finished trials pooled over all studies"
        + (f" (seed {seed})" if seed is not None else "")
        + "; importances normalised to sum 1, ± = std over bootstrap resamples of the trials. "
        f"Ranking: {', '.join(f'`{p}`' for p in importances['param'])}."
    )
    parts.append(_table(["parameter", "importance", "± std"], rows))
    if len(importances) > 1:
        first, second = importances.iloc[0], importances.iloc[1]
        lead = first.importance - second.importance
        spread = max(first["std"], second["std"])
        if math.isnan(spread):
            verdict = "no bootstrap spread to judge it against"
        elif lead > spread:
            verdict = f"larger than the larger std ({spread:.3f})"
        else:
            verdict = (
                f"within the larger std ({spread:.3f}): the order of the top two is not "
                "settled on this evidence"
            )
        parts.append(f"`{first.param}` leads `{second.param}` by {lead:.3f}, {verdict}.")
    main = attrs.get("main_effects", math.nan)
    if not math.isnan(main):
        parts.append(
            f"Main effects explain {main:.2f} of the forest's variance (the rest is "
            "interactions). Early-stopped trials report dev F1 after fewer epochs, so "
            "importance partly measures which configurations survived early stopping."
        )
    return parts


def _borders_part(flags: Sequence[dict], best: Sequence[dict], margin: float) -> list[str]:
    parts = ["### Search-space borders"]
    if not flags:
        parts.append(
            f"No best configuration ({len(best)}) lies within {margin:.0%} of a range bound."
        )
        return parts
    rows = [
        [
            f["study"],
            f"`{f['param']}`",
            _fmt(f["value"]),
            f"{f['bound']} ({_fmt(f['bound_value'])})" + (", outside" if f["outside"] else ""),
            _range(f["current"]),
            _range(f["suggested"]) if f["suggested"] else f["note"],
        ]
        for f in flags
    ]
    n_hit = len({f["study"] for f in flags})
    parts.append(
        f"{n_hit} of {len(best)} best configurations have a value within {margin:.0%} of a bound "
        "(log scale for log-uniform ranges; choices at their first or last value). A "
        "value at the edge suggests the optimum may lie outside the searched range."
    )
    parts.append(_table(["study", "parameter", "best value", "bound", "range", "suggested"], rows))
    return parts


def _patterns_part(pats: dict) -> list[str]:
    return [
        "### Learning rate × batch size (mean dev F1 of finished trials)",
        "Learning rate binned in equal steps on a log scale over the observed values; early-stopped "
        "trials count with the dev F1 they reached, which pulls their cells down.",
        _heat_text(pats.get("lr_batch"), pats.get("lr_batch_n"), "batch size"),
        "### Learning rate × warm-up ratio (mean dev F1 of finished trials)",
        _heat_text(pats.get("lr_warmup"), pats.get("lr_warmup_n"), "warm-up ratio"),
    ]


def _failures_part(failures: Sequence[dict], trials: pd.DataFrame) -> list[str]:
    parts = ["### Failed trials"]
    if not failures:
        parts.append(f"None of the {len(trials)} trials failed.")
        return parts
    rows = [
        [
            "/".join(str(f.get(k, "")) for k in ("family", "variant", "algorithm")),
            str(f.get("trial_id", "")),
            _fmt(f.get("learning_rate", "")),
            str(f.get("batch_size", "")),
            _fmt(f.get("warmup_ratio", "")),
            _error_cell(f.get("error", "")),
        ]
        for f in failures
    ]
    parts.append(
        f"{len(failures)} of {len(trials)} trials failed or reported no dev F1; they are "
        "left out of importance and heat maps."
    )
    parts.append(
        _table(["study", "trial", "learning rate", "batch size", "warm-up", "error"], rows)
    )
    return parts


# -- figures ----------------------------------------------------------------------------------


def _heatmap(plt, mean, count, xlabel: str, title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    try:
        if mean is None or mean.empty:
            ax.text(0.5, 0.5, "no finished trials", ha="center", va="center")
            ax.set_axis_off()
        else:
            values = mean.to_numpy(dtype=float)
            image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto")
            ax.set_xticks(range(values.shape[1]), [str(c) for c in mean.columns], rotation=20)
            ax.set_yticks(range(values.shape[0]), [str(i) for i in mean.index])
            finite = values[np.isfinite(values)]
            middle = float(finite.mean()) if finite.size else 0.0
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    if np.isfinite(values[i, j]):
                        color = "black" if values[i, j] > middle else "white"
                        label = f"{values[i, j]:.3f}\nn={count.iat[i, j]}"
                        ax.text(j, i, label, ha="center", va="center", fontsize=8, color=color)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("learning rate")
            fig.colorbar(image, ax=ax, label="mean best dev F1")
        ax.set_title(title)
        fig.tight_layout()
        return save_png(fig, path)
    finally:
        plt.close(fig)


def write_figures(importances: pd.DataFrame, pats: dict, out: str | Path) -> list[Path]:
    """importance.png, lr_batch_heatmap.png, lr_warmup_heatmap.png in ``out``."""
    plt = pyplot()
    out = Path(out)
    paths = []
    fig, ax = plt.subplots(figsize=FIGSIZE)
    try:
        if importances.empty:
            ax.text(0.5, 0.5, "importance not computed", ha="center", va="center")
            ax.set_axis_off()
        else:
            ordered = importances.iloc[::-1]
            xerr = ordered["std"].fillna(0).to_numpy()
            ax.barh(ordered["param"], ordered["importance"], xerr=xerr, color="tab:blue")
            ax.set_xlabel("fANOVA importance (normalised; ± bootstrap std)")
            ax.set_xlim(0, 1)
        n = importances.attrs.get("n")
        ax.set_title("Hyperparameter importance for best dev F1" + (f" ({n} trials)" if n else ""))
        fig.tight_layout()
        paths.append(save_png(fig, out / "importance.png"))
    finally:
        plt.close(fig)
    paths.append(
        _heatmap(
            plt,
            pats.get("lr_batch"),
            pats.get("lr_batch_n"),
            "batch size",
            "Mean best dev F1: learning rate × batch size",
            out / "lr_batch_heatmap.png",
        )
    )
    paths.append(
        _heatmap(
            plt,
            pats.get("lr_warmup"),
            pats.get("lr_warmup_n"),
            "warm-up ratio",
            "Mean best dev F1: learning rate × warm-up ratio",
            out / "lr_warmup_heatmap.png",
        )
    )
    return paths
