"""A fair comparison of the HPO algorithms: repeated studies, re-trained winners, seed noise.

Why: one study per algorithm cannot tell a better algorithm from a lucky seed. Here every
compared algorithm (``hpo.compare``) runs ``hpo.repeats`` studies with HPO seeds
``seed + k`` (k = 0 .. repeats-1), all with the same budget (``hpo.num_samples`` trials of at
most ``hpo.max_epochs`` epochs). Repeat 0 of an algorithm that is also a main study
(``hpo.families`` x ``hpo.train_variants`` x ``hpo.algorithms``) *is* that main study, so it is
never trained twice; every other repeat lives in ``results/repeats/{family}/{variant}/
{algorithm}/r{k}/``. The best configuration of each study is then re-trained with
``hpo.retrain_seeds`` training seeds ``seed + 1000 + j`` (j = 0 ..), which measures the seed
noise that any difference between algorithms has to exceed.

Everything is chosen on dev F1 (the best configuration, the best epoch of a re-training, the
winning algorithm); test F1 is only computed for the chosen models and reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nerhpo.analysis.figures import pyplot, save_png, series_style
from nerhpo.core import layout
from nerhpo.core.layout import under
from nerhpo.core.result_files import read_csv, read_json
from nerhpo.search.repeats import RETRAIN_SEED_OFFSET, compared, repeat_seed, study_dir

COMPARE_KEYS = ("repeats", "retrain_seeds", "compare")  # hpo keys that are not study settings
MISSING = "–"


class CompareError(ValueError):
    """Missing or unreadable inputs of the comparison (one line, naming the file)."""


# -- statistics -------------------------------------------------------------------------------
def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """(mean, sample std, n) of the finite values; std is NaN for n < 2, both NaN for n = 0."""
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not vals:
        return math.nan, math.nan, 0
    std = float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan
    return float(np.mean(vals)), std, len(vals)


def pm(values: Sequence[float], digits: int = 4) -> str:
    """'mean ± std (n=k)'; '(n=1, no spread)' for one value."""
    mean, std, n = mean_std(values)
    if n == 0:
        return MISSING
    if n == 1:
        return f"{mean:.{digits}f} (n=1, no spread)"
    return f"{mean:.{digits}f} ± {std:.{digits}f} (n={n})"


def pooled_std(groups: Sequence[Sequence[float]]) -> tuple[float, int]:
    """Pooled within-group sample std (groups with n >= 2) and its degrees of freedom.

    Why: the spread of re-trainings of one configuration is the training-seed noise; pooling it
    over configurations estimates that noise with more degrees of freedom than any one of them.
    """
    ss, dof = 0.0, 0
    for group in groups:
        vals = [float(v) for v in group if v is not None and not math.isnan(float(v))]
        if len(vals) > 1:
            ss += float(np.sum((np.asarray(vals) - np.mean(vals)) ** 2))
            dof += len(vals) - 1
    return (math.sqrt(ss / dof) if dof else math.nan), dof


def curve_on_grid(curve: pd.DataFrame, grid: Sequence[float]) -> np.ndarray:
    """Best-so-far dev F1 at each point of ``grid`` (epochs spent); NaN before the first epoch.

    After a study's last epoch its value stays at its final best (it spent no more).
    """
    epochs = curve["epochs"].to_numpy(dtype=float)
    best = curve["best"].to_numpy(dtype=float)
    out = np.full(len(grid), math.nan)
    for i, g in enumerate(grid):
        seen = best[epochs <= g]
        seen = seen[~np.isnan(seen)]
        if seen.size:
            out[i] = seen.max()
    return out


def best_at_budget(curve: pd.DataFrame, budget: float) -> float:
    """Best dev F1 a study had found after ``budget`` epochs spent (NaN if none yet)."""
    return float(curve_on_grid(curve, [budget])[0])


def band(curves: Sequence[pd.DataFrame], grid: Sequence[float]) -> pd.DataFrame:
    """Mean, min and max over studies of the best-so-far curves on ``grid`` (NaN-aware)."""
    if not curves:
        return pd.DataFrame({"epochs": list(grid), "mean": [], "low": [], "high": [], "n": []})
    stack = np.vstack([curve_on_grid(c, grid) for c in curves])
    n = (~np.isnan(stack)).sum(axis=0)
    with np.errstate(all="ignore"):
        mean = np.where(n > 0, np.nansum(stack, axis=0) / np.maximum(n, 1), math.nan)
        low = np.where(n > 0, np.nanmin(np.where(np.isnan(stack), np.inf, stack), axis=0), math.nan)
        high = np.where(
            n > 0, np.nanmax(np.where(np.isnan(stack), -np.inf, stack), axis=0), math.nan
        )
    return pd.DataFrame({"epochs": list(grid), "mean": mean, "low": low, "high": high, "n": n})


# -- reading the compared studies ---------------------------------------------------------------
@dataclass
class Repeat:
    """One compared study (an HPO seed) and the re-trainings of its best configuration."""

    family: str
    variant: str
    algorithm: str
    repeat: int
    seed: int
    best_dev: float
    epochs: int
    wall_seconds: float
    curve: pd.DataFrame
    exported_test: float = math.nan  # the study's own best model, test F1 on its variant
    config: dict = field(default_factory=dict)  # the study's best configuration
    retrain_dev: list[float] = field(default_factory=list)
    retrain_test: list[float] = field(default_factory=list)


def _json(path: Path) -> dict:
    return read_json(path, CompareError)


def load_repeats(params: dict, results: str | Path = "results", retrain: bool = True) -> list:
    """Every compared study with its anytime curve and (if ``retrain``) its re-trainings."""
    from nerhpo.analysis.report import anytime_curve

    results = Path(results)
    out = []
    for family, variant, algorithm in compared(params):
        runs = {}
        if retrain:
            path = under(
                results, layout.RETRAIN_FILE, family=family, variant=variant, algorithm=algorithm
            )
            runs = {int(s["repeat"]): s for s in _json(path).get("studies", [])}
        for k in range(int(params["hpo"]["repeats"])):
            directory = study_dir(params, family, variant, algorithm, k, results)
            best = _json(directory / "best.json")
            summary = _json(directory / "summary.json")
            curve = anytime_curve(directory, read_csv(directory / "trials.csv", CompareError))
            item = Repeat(
                family,
                variant,
                algorithm,
                k,
                int(best.get("seed", repeat_seed(params["seed"], k))),
                float(best["dev_f1"]),
                int(summary.get("epochs", 0)),
                float(summary.get("wall_seconds", math.nan)),
                curve,
                config=dict(best.get("config", {})),
            )
            if retrain:
                if k not in runs:
                    raise CompareError(f"{path}: no re-training of repeat {k}")
                study = runs[k]
                item.exported_test = float(study.get("exported", {}).get("test_f1", math.nan))
                item.retrain_dev = [float(r["dev_f1"]) for r in study["runs"]]
                item.retrain_test = [float(r["test_f1"]) for r in study["runs"]]
            out.append(item)
    return out


# -- the comparison ---------------------------------------------------------------------------
def budget(repeats: Sequence[Repeat]) -> float:
    """The equal budget: the fewest epochs any compared study spent (all had reached it)."""
    spent = [r.epochs for r in repeats if r.epochs > 0]
    return float(min(spent)) if spent else math.nan


def summarise(repeats: Sequence[Repeat]) -> pd.DataFrame:
    """Per algorithm: HPO-seed spread of best dev F1 and of its test F1, the equal-budget best,
    and the mean over every re-training (repeats x training seeds); sorted by the winner rule.

    The winner rule: the highest mean re-trained dev F1 (or, without re-trainings, the highest
    mean best dev F1 of the studies). Test F1 never enters the order.
    """
    b = budget(repeats)
    rows = []
    for algorithm in dict.fromkeys(r.algorithm for r in repeats):
        own = [r for r in repeats if r.algorithm == algorithm]
        retrain_dev = [v for r in own for v in r.retrain_dev]
        retrain_test = [v for r in own for v in r.retrain_test]
        rows.append(
            {
                "algorithm": algorithm,
                "studies": len(own),
                "epochs": [r.epochs for r in own],
                "best_dev": [r.best_dev for r in own],
                "exported_test": [r.exported_test for r in own],
                "at_budget": [best_at_budget(r.curve, b) for r in own],
                "retrain_dev": retrain_dev,
                "retrain_test": retrain_test,
                "seed_std": pooled_std([r.retrain_dev for r in own])[0],
                "key": mean_std(retrain_dev)[0]
                if retrain_dev
                else mean_std([r.best_dev for r in own])[0],
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.sort_values(["key", "algorithm"], ascending=[False, True], kind="mergesort")
    frame = frame.reset_index(drop=True)
    frame.attrs["budget"] = b
    return frame


def verdict(summary: pd.DataFrame, repeats: Sequence[Repeat]) -> dict:
    """The winner on the mean, the gap to the runner-up, and whether it exceeds the seed noise.

    Seed noise: the pooled std of re-trained dev F1 over training seeds (within configurations).
    The gap "exceeds the seed noise" when it is larger than that std; it is "clear" when it is
    also larger than twice the standard error of the difference of the two means.
    """
    out = {"winner": None, "runner_up": None, "gap": math.nan, "seed_std": math.nan}
    if summary.empty:
        return out
    retrained = any(r.retrain_dev for r in repeats)
    column = "retrain_dev" if retrained else "best_dev"
    seed_std, dof = pooled_std([r.retrain_dev for r in repeats])
    top = summary.iloc[0]
    out.update(
        winner=top.algorithm,
        basis=column,
        winner_mean=mean_std(top[column])[0],
        seed_std=seed_std,
        seed_dof=dof,
        hpo_std=pooled_std(
            [
                [
                    mean_std(r.retrain_dev)[0] if retrained else r.best_dev
                    for r in repeats
                    if r.algorithm == a and r.family == f and r.variant == v
                ]
                # sorted: a set's order follows string hashing, which differs per process,
                # and the sum's order would move the last bits of the result
                for a, f, v in sorted({(r.algorithm, r.family, r.variant) for r in repeats})
            ]
        )[0],
    )
    if len(summary) < 2:
        return out
    second = summary.iloc[1]
    m1, s1, n1 = mean_std(top[column])
    m2, s2, n2 = mean_std(second[column])
    gap = m1 - m2
    se = math.sqrt(s1**2 / n1 + s2**2 / n2) if n1 > 1 and n2 > 1 else math.nan
    out.update(
        runner_up=second.algorithm,
        runner_up_mean=m2,
        gap=gap,
        se=se,
        exceeds_seed_noise=bool(not math.isnan(seed_std) and gap > seed_std),
        clear=bool(
            not math.isnan(seed_std) and gap > seed_std and not math.isnan(se) and gap > 2 * se
        ),
    )
    return out


def identical_choices(repeats: Sequence[Repeat]) -> list[list[str]]:
    """Groups of algorithms whose studies chose the same best configuration in every repeat.

    Why: algorithms that sample from the same seeded generator (asha, pbt and random in Ray's
    BasicVariantGenerator) draw the same trials; with few trials their early stopping may not
    change which one is best, and then their re-trainings coincide. A tie between them says
    nothing about the algorithms, so the findings name it.
    """
    keys = sorted({(r.family, r.variant, r.repeat) for r in repeats})
    algorithms = list(dict.fromkeys(r.algorithm for r in repeats))
    by = {(r.family, r.variant, r.repeat, r.algorithm): r.config for r in repeats}

    def same(a: str, b: str) -> bool:
        return all(by.get((*k, a)) is not None and by.get((*k, a)) == by.get((*k, b)) for k in keys)

    groups: list[list[str]] = []
    for algorithm in algorithms:
        for group in groups:
            if same(group[0], algorithm):
                group.append(algorithm)
                break
        else:
            groups.append([algorithm])
    return [g for g in groups if len(g) > 1]


def _names(items: Sequence[str]) -> str:
    quoted = [f"`{i}`" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


# -- markdown ---------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(params: dict, repeats: Sequence[Repeat], figure: str | None = None) -> str:
    """The comparison's part of the README's Findings: table, winner, noise verdict."""
    if not repeats:
        return "No compared studies."
    summary = summarise(repeats)
    v = verdict(summary, repeats)
    hpo = params["hpo"]
    pairs = sorted({f"{r.family}/{r.variant}" for r in repeats})
    seeds = int(hpo["retrain_seeds"])
    parts = [
        "### Which HPO method to trust: repeated studies and re-trained winners",
        (
            f"Each algorithm ran {hpo['repeats']} studies (HPO seeds {params['seed']} + k) on "
            f"{', '.join(pairs)}, every study with the same budget: {hpo['num_samples']} trials "
            f"of at most {hpo['max_epochs']} epochs ({hpo['num_samples'] * hpo['max_epochs']} "
            "epochs at most; early-stopping algorithms spend fewer). The best configuration of "
            f"each study was re-trained with {seeds} training seed(s) "
            f"({params['seed'] + RETRAIN_SEED_OFFSET} + j) for {hpo['max_epochs']} epochs, "
            "keeping the epoch with the best dev F1. Equal budget: best dev F1 after "
            f"{summary.attrs['budget']:g} epochs, the fewest any compared study spent."
        ),
    ]
    rows = [
        [
            f"`{r.algorithm}`",
            str(r.studies),
            f"{mean_std(r.epochs)[0]:.1f}",
            pm(r.best_dev),
            pm(r.at_budget),
            pm(r.exported_test),
            pm(r.retrain_dev),
            pm(r.retrain_test),
        ]
        for r in summary.itertuples()
    ]
    headers = [
        "algorithm",
        "studies",
        "epochs spent (mean)",
        "best dev F1 of study",
        f"best dev F1 at {summary.attrs['budget']:g} epochs",
        "test F1 of that model (reported only)",
        "re-trained dev F1",
        "re-trained test F1 (reported only)",
    ]
    parts.append(
        _table(headers, rows) + "\n\nmean ± sample std (n): over studies (HPO seeds) for the "
        "study columns, over studies × training seeds for the re-trained columns."
    )
    basis = "re-trained dev F1" if v.get("basis") == "retrain_dev" else "best dev F1 of study"
    text = f"**Winner on the mean {basis}: `{v['winner']}`** ({v['winner_mean']:.4f})."
    if v["runner_up"] is None:
        text += " It is the only compared algorithm."
    else:
        text += f" Runner-up `{v['runner_up']}` ({v['runner_up_mean']:.4f}): gap {v['gap']:.4f}."
        if math.isnan(v["seed_std"]):
            text += (
                " Without at least two re-trainings per configuration there is no seed noise to "
                "judge the gap against."
            )
        elif v["exceeds_seed_noise"]:
            text += (
                f" The gap is larger than the training-seed noise (pooled std "
                f"{v['seed_std']:.4f}, {v['seed_dof']} degrees of freedom)"
            )
            text += (
                f" and than twice the standard error of the difference ({v['se']:.4f}): a "
                "consistent difference on this evidence, though not a significance test."
                if v["clear"]
                else f", but not larger than twice the standard error of the difference "
                f"({2 * v['se']:.4f} = 2 × {v['se']:.4f}): suggestive, not settled."
                if not math.isnan(v["se"])
                else "."
            )
        else:
            text += (
                f" The gap is **not** larger than the training-seed noise (pooled std "
                f"{v['seed_std']:.4f}, {v['seed_dof']} degrees of freedom): on this evidence "
                "the algorithms cannot be told apart."
            )
    if not math.isnan(v.get("hpo_std", math.nan)):
        text += (
            f" Between HPO seeds of one algorithm the study results spread by {v['hpo_std']:.4f} "
            "(pooled std)."
        )
    parts.append(text)
    n_repeats = len({(r.family, r.variant, r.repeat) for r in repeats})
    for group in identical_choices(repeats):
        parts.append(
            f"{_names(group)} chose identical best configurations in all {n_repeats} studies "
            "(same HPO seed, same sampled trials; with this budget neither early stopping nor "
            "PBT's exploitation changed which trial was best), so their re-trainings coincide: "
            "their tie says nothing about the algorithms themselves."
        )
    if figure:
        parts.append(f"![anytime curves with bands]({figure})")
    return "\n\n".join(parts)


def to_json(repeats: Sequence[Repeat]) -> dict:
    """The comparison's numbers (for comparison.json and tests)."""
    summary = summarise(repeats)
    v = verdict(summary, repeats)
    algorithms = {}
    for r in summary.itertuples():
        algorithms[r.algorithm] = {
            key: dict(zip(("mean", "std", "n"), mean_std(getattr(r, key))))
            for key in (
                "best_dev",
                "at_budget",
                "exported_test",
                "retrain_dev",
                "retrain_test",
                "epochs",
            )
        }
    studies = [
        {
            "family": r.family,
            "variant": r.variant,
            "algorithm": r.algorithm,
            "repeat": r.repeat,
            "seed": r.seed,
            "best_dev_f1": r.best_dev,
            "epochs": r.epochs,
            "wall_seconds": r.wall_seconds,
            "exported_test_f1": r.exported_test,
            "retrain_dev_f1": r.retrain_dev,
            "retrain_test_f1": r.retrain_test,
        }
        for r in repeats
    ]
    return json_ready(
        {
            "budget_epochs": summary.attrs.get("budget", math.nan),
            "algorithms": algorithms,
            "verdict": v,
            "studies": studies,
        }
    )


def json_ready(obj):
    """NaN -> None, numpy -> Python, so the JSON is strict."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj


# -- figures ----------------------------------------------------------------------------------
def write_figures(repeats: Sequence[Repeat], out: str | Path) -> list[Path]:
    """compare_anytime.png (mean best-so-far dev F1 per algorithm, min-max band over HPO seeds)
    and compare_retrain.png (every re-training's dev and test F1, mean ± std)."""

    plt = pyplot()
    out = Path(out)
    pairs = list(dict.fromkeys((r.family, r.variant) for r in repeats)) or [("", "")]
    algorithms = list(dict.fromkeys(r.algorithm for r in repeats))
    colors = {a: f"C{i}" for i, a in enumerate(algorithms)}
    styles = {a: series_style(i) for i, a in enumerate(algorithms)}
    fig, axes = plt.subplots(
        1, len(pairs), figsize=(5.5 * len(pairs), 4.2), squeeze=False, sharey=True
    )
    b = budget(repeats)
    for ax, (family, variant) in zip(axes[0], pairs):
        own = [r for r in repeats if (r.family, r.variant) == (family, variant)]
        for algorithm in algorithms:
            curves = [r.curve for r in own if r.algorithm == algorithm]
            if not curves:
                continue
            # up to the algorithm's largest spend: a line does not go on past its studies
            top = max((float(c["epochs"].max()) for c in curves if len(c)), default=1.0)
            grid = np.arange(1, int(top) + 1, dtype=float)
            stats = band(curves, grid)
            ax.step(
                grid,
                stats["mean"],
                where="post",
                **styles[algorithm],
                markersize=4,
                label=f"{algorithm} (n={len(curves)})",
            )
            ax.fill_between(
                grid, stats["low"], stats["high"], step="post", alpha=0.2, color=colors[algorithm]
            )
        if not math.isnan(b):
            ax.axvline(b, color="grey", linestyle=":", linewidth=1)
        ax.set_title(f"{family} / {variant}" if family else "no studies", fontsize=10)
        ax.set_xlabel("epochs spent by the study (all trials)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("best dev F1 so far")
    fig.suptitle(
        "Anytime curves: mean over HPO seeds, band min–max\n(grey dotted line: the equal budget)",
        fontsize=10,
    )
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    try:
        paths = [save_png(fig, out / "compare_anytime.png")]
    finally:
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    try:
        for i, algorithm in enumerate(algorithms):
            own = [r for r in repeats if r.algorithm == algorithm]
            for offset, (split, marker) in enumerate((("dev", "o"), ("test", "s"))):
                values = [v for r in own for v in getattr(r, f"retrain_{split}")]
                if not values:
                    continue
                x = i + (offset - 0.5) * 0.3
                jitter = np.linspace(-0.05, 0.05, len(values)) if len(values) > 1 else [0.0]
                ax.scatter(
                    x + np.asarray(jitter),
                    values,
                    marker=marker,
                    s=18,
                    alpha=0.6,
                    color=colors[algorithm],
                )
                mean, std, _ = mean_std(values)
                ax.errorbar(
                    x + 0.09,
                    mean,
                    yerr=0 if math.isnan(std) else std,
                    fmt="_",
                    color="black",
                    capsize=4,
                    markersize=12,
                )
        ax.set_xticks(range(len(algorithms)), algorithms)
        ax.set_ylabel("F1 of a re-trained best configuration")
        ax.set_title(
            "Re-trained best configurations: dev (o) and test (□) F1\n"
            "per study × training seed; bars: mean ± std",
            fontsize=10,
        )
        ax.grid(alpha=0.3, axis="y")
        fig.tight_layout()
        paths.append(save_png(fig, out / "compare_retrain.png"))
    finally:
        plt.close(fig)
    return paths
