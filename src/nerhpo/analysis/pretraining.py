"""The "Pretraining" part of the findings: what the pretraining study (``pretrain_hpo``) shows.

Read from its ``trials.csv`` (one row per trial and pretraining epoch, both objectives):

* how well the **proxy** (held-out MLM loss) ranks the trials as the **downstream** score (dev
  F1 of the probe's short fine-tune) does: Spearman's rank correlation over trials, each at its
  last epoch with a downstream score, with a seeded bootstrap interval (trials resampled), and
  the same over every (trial, epoch) scored;
* what each objective costs: seconds of pretraining (both need it), of held-out scoring (the
  proxy) and of the probes' fine-tunes (the downstream score);
* which pretraining hyperparameters matter: the rank correlation of each numeric one with dev
  F1 (and with the proxy) over trials, and the mean dev F1 per value of a categorical one;
* a short paragraph on how to go on when the stage to tune is pretraining, written from these
  numbers (hedged when there are few trials).

Writes ``pretraining.md``, ``pretraining.json`` and ``pretraining.png`` (proxy against dev F1,
one point per trial, labelled inside the image).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from nerhpo.analysis.figures import pyplot, save_png
from nerhpo.core.atomic import atomic_write_json, atomic_write_text, make_dirs

PROXY = "heldout_mlm_loss"
DOWNSTREAM = "dev_f1"
LOWERCASED = "dev_f1_lowercased"  # the probe's model on the dev text lowercased
HPARAMS = ("learning_rate", "mask_probability", "warmup_ratio", "weight_decay", "batch_size")
CATEGORICAL = ("casing",)
FEW_TRIALS = 10  # below this many trials, every statement is hedged
BOOTSTRAP = 2000


def spearman(x, y) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None if either is constant or
    fewer than three pairs."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    return float(np.corrcoef(rx, ry)[0, 1])


def bootstrap_interval(
    x, y, seed: int, n: int = BOOTSTRAP, level: float = 0.95
) -> tuple[float | None, float | None]:
    """A percentile bootstrap interval of Spearman's rho (pairs resampled with replacement,
    from ``seed``); resamples whose rho is undefined (a constant side) are left out."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3:
        return None, None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        idx = rng.integers(0, len(x), len(x))
        rho = spearman(x[idx], y[idx])
        if rho is not None:
            values.append(rho)
    if len(values) < n // 10:
        return None, None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def per_trial(table: pd.DataFrame) -> pd.DataFrame:
    """Each trial at its last epoch with a downstream score (and the proxy at that epoch)."""
    scored = table.dropna(subset=[PROXY, DOWNSTREAM])
    if scored.empty:
        return scored
    last = scored.sort_values(["trial_id", "epoch"]).groupby("trial_id", sort=False).tail(1)
    return last.sort_values(["trial", "trial_id"]).reset_index(drop=True)


def common_epoch(table: pd.DataFrame) -> tuple[int | None, pd.DataFrame]:
    """The last epoch at which every trial has both objectives (ASHA's first rung, say), and
    the trials there: a comparison at equal pretraining, apart from the fidelity's effect."""
    scored = table.dropna(subset=[PROXY, DOWNSTREAM])
    if scored.empty:
        return None, scored
    trials = scored.trial_id.nunique()
    counts = scored.groupby("epoch").trial_id.nunique()
    full = counts[counts == trials]
    if full.empty:
        return None, scored.iloc[0:0]
    epoch = int(full.index.max())
    return epoch, scored[scored.epoch == epoch]


def _correlation(frame: pd.DataFrame, seed: int) -> dict:
    rho = spearman(frame[PROXY], frame[DOWNSTREAM])
    low, high = bootstrap_interval(frame[PROXY], frame[DOWNSTREAM], seed)
    return {
        "n": len(frame),
        "rho": _round(rho),
        "ci_low": _round(low),
        "ci_high": _round(high),
        "bootstrap": BOOTSTRAP,
        "seed": seed,
    }


def _cost(table: pd.DataFrame) -> dict:
    def total(column):
        return float(table[column].fillna(0).sum()) if column in table else 0.0

    probes = int(table[DOWNSTREAM].notna().sum())
    pretrain, proxy, downstream = (
        total("train_seconds"),
        total("proxy_seconds"),
        total("downstream_seconds"),
    )
    return {
        "pretraining_seconds": round(pretrain, 2),
        "proxy_seconds": round(proxy, 2),
        "downstream_seconds": round(downstream, 2),
        "epochs": len(table),
        "probes": probes,
        "proxy_seconds_per_epoch": round(proxy / max(1, len(table)), 3),
        "downstream_seconds_per_probe": round(downstream / max(1, probes), 3),
        "pretraining_seconds_per_epoch": round(pretrain / max(1, len(table)), 3),
    }


def _importance(trials: pd.DataFrame) -> list[dict]:
    out = []
    for name in HPARAMS:
        if name not in trials or trials[name].nunique(dropna=True) < 2:
            continue
        values = pd.to_numeric(trials[name], errors="coerce")
        out.append(
            {
                "name": name,
                "kind": "numeric",
                "rho_downstream": _round(spearman(values, trials[DOWNSTREAM])),
                "rho_proxy": _round(spearman(values, trials[PROXY])),
            }
        )
    for name in CATEGORICAL:
        if name not in trials or trials[name].nunique(dropna=True) < 2:
            continue
        means = trials.groupby(name)[DOWNSTREAM].mean().sort_values(ascending=False)
        item = {
            "name": name,
            "kind": "categorical",
            "mean_downstream": {str(k): _round(v) for k, v in means.items()},
            "spread": _round(float(means.max() - means.min())),
            "n": {str(k): int(v) for k, v in trials.groupby(name)[DOWNSTREAM].count().items()},
        }
        if LOWERCASED in trials and trials[LOWERCASED].notna().any():
            lowered = trials.groupby(name)[LOWERCASED].mean()
            item["mean_downstream_lowercased"] = {
                str(k): _round(lowered.get(k)) for k in means.index
            }
        out.append(item)
    return out


def _strength(item: dict) -> float:
    if item["kind"] == "numeric":
        return abs(item["rho_downstream"] or 0.0)
    return 0.0


def analyse(table: pd.DataFrame, seed: int) -> dict:
    """The numbers of the pretraining findings from a trials table (``trials.csv``)."""
    trials = per_trial(table)
    epochs = table.dropna(subset=[PROXY, DOWNSTREAM])
    common, at_common = common_epoch(table)
    basis = at_common if len(at_common) >= 3 else trials
    result = {
        "trials": int(table.trial_id.nunique()),
        "rows": len(table),
        "scored_trials": len(trials),
        "trials_correlation": _correlation(trials, seed),
        "epochs_correlation": _correlation(epochs, seed + 1),
        "common_epoch": common,
        "common_epoch_correlation": _correlation(at_common, seed + 2),
        "cost": _cost(table),
        # at equal pretraining where every trial has it: a trial's last epoch also says how
        # long the scheduler let it run, which its hyperparameters decided in part
        "importance_basis": f"epoch {common}" if basis is at_common else "last scored epoch",
        "importance": _importance(basis) if len(basis) else [],
        "downstream_varies": bool(len(trials) and trials[DOWNSTREAM].nunique() > 1),
        # held-out losses under different tokenizers (one per pretraining casing) compare
        # different vocabularies
        "casings": sorted(map(str, table.casing.dropna().unique())) if "casing" in table else [],
    }
    if len(trials):
        best_f1 = trials.loc[trials[DOWNSTREAM].idxmax()]
        best_proxy = trials.loc[trials[PROXY].idxmin()]
        result["best_downstream"] = _row(best_f1)
        result["best_proxy"] = _row(best_proxy)
        result["same_best"] = bool(best_f1.trial_id == best_proxy.trial_id)
    result["advice"] = advice(result)
    return result


def _row(row) -> dict:
    return {
        "trial_id": str(row.trial_id),
        "epoch": int(row.epoch),
        PROXY: _round(float(row[PROXY])),
        DOWNSTREAM: _round(float(row[DOWNSTREAM])),
    }


def advice(r: dict) -> str:
    """How to go on when the stage to tune is pretraining: what these numbers say."""
    n = r["scored_trials"]
    corr, cost = r["trials_correlation"], r["cost"]
    hedge = (
        f" With {n} trials this is weak evidence: the interval is wide, and a few more trials "
        "can change the picture; treat it as a hypothesis to check with more trials."
        if n < FEW_TRIALS
        else ""
    )
    parts = []
    if n < 3:
        return (
            f"Only {n} trial(s) have both objectives: too few to say anything about the proxy. "
            "Run more trials (pretrain_hpo.num_samples) before choosing how to tune pretraining."
        )
    ratio = cost["downstream_seconds_per_probe"] / max(1e-9, cost["proxy_seconds_per_epoch"])
    costs = (
        f"A downstream score cost {cost['downstream_seconds_per_probe']:.1f} s per probe, the "
        f"proxy {cost['proxy_seconds_per_epoch']:.2f} s per epoch (about {ratio:.0f}x less), "
        f"beside {cost['pretraining_seconds_per_epoch']:.1f} s of pretraining per epoch that both "
        "need."
    )
    if not r["downstream_varies"] or corr["rho"] is None:
        parts.append(
            "Dev F1 of the probe did not vary between trials (or the proxy did not), so the data "
            "cannot say whether the proxy predicts it: the probe is too short or the encoders too "
            "weak to be told apart. Lengthen the probe (probe.epochs) or the pretraining "
            "(max_epochs) before trusting either objective."
        )
    else:
        parts.append(_verdict(r))
        if not r.get("same_best", True):
            parts.append(
                f"The best trial by the proxy ({r['best_proxy']['trial_id']}) is not the best by "
                f"dev F1 ({r['best_downstream']['trial_id']})."
            )
    parts.append(costs)
    numeric = [i for i in r["importance"] if i["kind"] == "numeric" and i["rho_downstream"]]
    if numeric and r["downstream_varies"]:
        top = max(numeric, key=_strength)
        direction = "higher" if top["rho_downstream"] > 0 else "lower"
        parts.append(
            f"Of the searched pretraining hyperparameters, {top['name']} went most with dev F1 "
            f"({r['importance_basis']}: rho {top['rho_downstream']:.2f}, {direction} values "
            "scored better); narrow its "
            "range first, keep the others wide."
        )
    return " ".join(parts) + hedge


def _interval(c: dict) -> str:
    if c["ci_low"] is None:
        return ""
    return f" (95% bootstrap interval {c['ci_low']:.2f} to {c['ci_high']:.2f})"


def _verdict(r: dict) -> str:
    """What the rank correlations say about tuning on the proxy. The one at equal pretraining
    (every trial at the same epoch) decides where there is one: a scheduler compares trials at
    the same epoch (ASHA's rungs, PBT's perturbation points), and across epochs the longer runs
    are better by both measures, which the correlation over trials' last epochs mixes in."""
    corr, same, epoch = r["trials_correlation"], r["common_epoch_correlation"], r["common_epoch"]
    text = (
        f"Over {corr['n']} trials, each at its last scored epoch, Spearman's rho between "
        f"held-out MLM loss and dev F1 is {corr['rho']:.2f}{_interval(corr)}."
    )
    decisive = corr
    if same["rho"] is not None and epoch is not None:
        text += (
            f" At equal pretraining (epoch {epoch}, {same['n']} trials) it is "
            f"{same['rho']:.2f}{_interval(same)}; that one decides, as a scheduler compares "
            "trials at equal epochs."
        )
        decisive = same
    rho, low, high = decisive["rho"], decisive["ci_low"], decisive["ci_high"]
    if high is not None and high < 0 and rho <= -0.5:
        return text + (
            " A lower held-out loss went with a better downstream score: the proxy ranks "
            "pretraining runs much as the fine-tune does, so tuning on the proxy (objective: "
            "proxy) is a fair, cheaper choice; confirm the best few by their downstream score "
            "before keeping one."
        )
    if low is not None and low > 0:
        return text + (
            " A lower held-out loss went with a worse downstream score: the proxy misleads here, "
            "so tune on the downstream score (objective: downstream)."
        )
    return text + (
        " Its interval does not exclude no relation: the proxy does not reliably rank the runs "
        "as the fine-tune does, so tune on the downstream score (objective: downstream), or use "
        "the proxy only to drop runs that clearly fail."
    )


def _round(value, digits: int = 4):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def _fmt(value, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def markdown(r: dict, heading: str = "## Pretraining", figure: str = "pretraining.png") -> str:
    corr, epochs, cost = r["trials_correlation"], r["epochs_correlation"], r["cost"]
    same = r["common_epoch_correlation"]
    lines = [
        heading,
        "",
        f"The pretraining study ran {r['trials']} trials ({r['rows']} pretraining epochs); "
        f"{r['scored_trials']} have both objectives. Proxy: MLM loss on held-out text (lower is "
        "better); downstream: dev F1 of a short fine-tune with the default hyperparameters.",
        "",
        "| rank correlation (held-out MLM loss vs dev F1) | n | Spearman rho | 95% bootstrap interval |",
        "| --- | --- | --- | --- |",
        f"| trials, each at its last scored epoch | {corr['n']} | {_fmt(corr['rho'], '.2f')} | "
        f"{_fmt(corr['ci_low'], '.2f')} to {_fmt(corr['ci_high'], '.2f')} |",
        f"| every (trial, epoch) scored | {epochs['n']} | {_fmt(epochs['rho'], '.2f')} | "
        f"{_fmt(epochs['ci_low'], '.2f')} to {_fmt(epochs['ci_high'], '.2f')} |",
        f"| every trial at epoch {r['common_epoch']} (the last all reached) | {same['n']} | "
        f"{_fmt(same['rho'], '.2f')} | {_fmt(same['ci_low'], '.2f')} to "
        f"{_fmt(same['ci_high'], '.2f')} |",
        "",
        "| cost | seconds | per unit |",
        "| --- | --- | --- |",
        f"| pretraining (both objectives) | {cost['pretraining_seconds']:.1f} | "
        f"{cost['pretraining_seconds_per_epoch']:.2f} per epoch |",
        f"| proxy: held-out scoring | {cost['proxy_seconds']:.1f} | "
        f"{cost['proxy_seconds_per_epoch']:.3f} per epoch |",
        f"| downstream: probe fine-tunes | {cost['downstream_seconds']:.1f} | "
        f"{cost['downstream_seconds_per_probe']:.2f} per probe ({cost['probes']} probes) |",
    ]
    if r["importance"]:
        lines += [
            "",
            f"Importance over the trials at {r['importance_basis']}:",
            "",
            "| hyperparameter | rho with dev F1 | rho with held-out loss | mean dev F1 per value |",
            "| --- | --- | --- | --- |",
        ]
        for item in r["importance"]:
            if item["kind"] == "numeric":
                lines.append(
                    f"| {item['name']} | {_fmt(item['rho_downstream'], '.2f')} | "
                    f"{_fmt(item['rho_proxy'], '.2f')} | |"
                )
            else:
                per = ", ".join(f"{k}: {_fmt(v)}" for k, v in item["mean_downstream"].items())
                lines.append(f"| {item['name']} | | | {per} |")
        lines += _casing_lines(r["importance"])
    if len(r.get("casings", [])) > 1:
        lines += [
            "",
            f"The trials pretrained on different text ({', '.join(r['casings'])}), each with its "
            "own tokenizer: their held-out losses are over different vocabularies, so the proxy "
            "compares them only roughly.",
        ]
    lines += ["", f"![proxy vs downstream]({figure})", ""]
    lines += _finetune_lines(r.get("finetune")) + [r["advice"], ""]
    return "\n".join(lines)


def finetune_comparison(default_best: dict | None, tuned_best: dict, encoder: dict) -> dict:
    """The fine-tuning study on the best pretrained encoder against the main study on the
    default encoder (None when that main study has not run): their best configurations and
    dev F1, and which hyperparameters moved."""
    out = {"tuned": tuned_best, "encoder": encoder, "default": default_best, "moved": {}}
    if default_best is not None:
        a, b = default_best["config"], tuned_best["config"]
        out["moved"] = {k: [a[k], b[k]] for k in sorted(a) if k in b and a[k] != b[k]}
    return out


def _hp(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _finetune_lines(ft: dict | None) -> list[str]:
    if not ft:
        return []
    tuned, default = ft["tuned"], ft["default"]
    tag = f"{tuned['family']}/{tuned['train_variant']}/{tuned['algorithm']}"
    epochs = ft["encoder"].get("epoch")
    head = (
        f"Fine-tuning HPO on the best encoder found (trial {ft['encoder'].get('trial_id')}, "
        f"{epochs} pretraining epochs), {tag} at the main studies' budget: best dev F1 "
        f"{tuned['dev_f1']:.4f}"
    )
    if default is None:
        return [
            head + "; the main study on the default encoder has not run, so nothing to "
            "compare with (it must be a main study: hpo.families x train_variants x algorithms).",
            "",
        ]
    head += f" against {default['dev_f1']:.4f} on the default encoder."
    rows = [
        "| hyperparameter | default encoder | best pretrained encoder |",
        "| --- | --- | --- |",
    ]
    for k in sorted(default["config"]):
        mark = " (moved)" if k in ft["moved"] else ""
        rows.append(f"| {k}{mark} | {_hp(default['config'][k])} | {_hp(tuned['config'].get(k))} |")
    moved = ", ".join(ft["moved"]) or "none"
    same_seed = tuned.get("seed") == default.get("seed")
    tail = (
        f"The optimum moved in {len(ft['moved'])} of {len(default['config'])} hyperparameters "
        f"({moved})."
        + (
            " Both studies draw their candidates from the same HPO seed, so they try the same "
            "configurations: the question is which of them wins on each encoder."
            if same_seed
            else ""
        )
        + " One study each: a move smaller than the search's own spread between HPO seeds (the "
        "comparison's repeats) says nothing, and the two encoders differ in their pretraining "
        "length too, not only in its hyperparameters."
    )
    return [head, "", *rows, "", tail, ""]


def _casing_lines(importance: list[dict]) -> list[str]:
    """The pretraining text's casing against the fine-tuned probe's casing robustness."""
    item = next((i for i in importance if i["name"] == "casing"), None)
    if not item or "mean_downstream_lowercased" not in item:
        return []
    lines = [
        "",
        "The pretraining text's casing and the casing robustness of the fine-tuned probe (mean "
        "over the trials of each casing; the probe's model on its dev text as it is and "
        "lowercased):",
        "",
        "| pretraining text | trials | dev F1 | dev F1, text lowercased | drop |",
        "| --- | --- | --- | --- | --- |",
    ]
    for casing, f1 in item["mean_downstream"].items():
        lowered = item["mean_downstream_lowercased"].get(casing)
        drop = None if f1 is None or lowered is None else f1 - lowered
        lines.append(
            f"| {casing} | {item['n'].get(casing, 0)} | {_fmt(f1)} | {_fmt(lowered)} | "
            f"{_fmt(drop)} |"
        )
    return lines


def figure(table: pd.DataFrame, r: dict, path: Path) -> None:
    """Held-out MLM loss against dev F1: every scored epoch (small), each trial at its last
    scored epoch (large, labelled with its trial number), the correlation in the title."""
    plt = pyplot()

    epochs = table.dropna(subset=[PROXY, DOWNSTREAM])
    trials = per_trial(table)
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=110)
    ax.scatter(epochs[PROXY], epochs[DOWNSTREAM], s=12, c="0.7", label="a trial's epoch")
    ax.scatter(trials[PROXY], trials[DOWNSTREAM], s=46, c="C0", label="trial, last scored epoch")
    for row in trials.itertuples():
        ax.annotate(
            f"{row.trial} (ep {row.epoch})",
            (getattr(row, PROXY), getattr(row, DOWNSTREAM)),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    corr = r["trials_correlation"]
    rho = _fmt(corr["rho"], ".2f")
    interval = (
        f" [{corr['ci_low']:.2f}, {corr['ci_high']:.2f}]" if corr["ci_low"] is not None else ""
    )
    ax.set_title(
        f"Pretraining study: proxy vs downstream (Spearman rho {rho}{interval}, n={corr['n']})",
        fontsize=9,
    )
    ax.set_xlabel("held-out MLM loss (proxy, lower is better)")
    ax.set_ylabel("dev F1 after a short fine-tune (downstream)")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        save_png(fig, path)
    finally:
        plt.close(fig)


def write_pretraining_findings(
    trials_csv: str | Path, out_dir: str | Path, seed: int, finetune: dict | None = None
) -> dict:
    """Write pretraining.md, pretraining.json and pretraining.png into ``out_dir``
    (``finetune``: nerhpo.analysis.pretraining.finetune_comparison, if it ran)."""
    table = pd.read_csv(trials_csv, dtype={"trial_id": str})
    out = Path(out_dir)
    make_dirs(out)
    result = analyse(table, seed)
    if finetune is not None:
        result["finetune"] = finetune
    atomic_write_json(out / "pretraining.json", json.loads(json.dumps(result)))
    atomic_write_text(out / "pretraining.md", markdown(result))
    figure(table, result, out / "pretraining.png")
    return result
