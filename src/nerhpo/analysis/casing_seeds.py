"""The seed spread of the casing robustness: each training variant's best configuration
re-trained with several training seeds, every model evaluated on every variant.

Why: the casing part's spread is over the algorithms' best models, which differ in their
configurations as well as their seeds, and each is the maximum of its study (biased upwards).
Re-training one configuration with other seeds measures how much of a training variant's F1 on
each evaluation variant, and of its drop when the text is lowercased, is the luck of one seed.
"""

from __future__ import annotations

import math
from pathlib import Path

from nerhpo.analysis.compare import mean_std
from nerhpo.core import layout
from nerhpo.core.layout import under
from nerhpo.core.result_files import read_json
from nerhpo.data.casing import VARIANTS

CASED = "cased"
LOWERED = ("uncased", "ne-lower")
SPLITS = ("dev", "test")


class CasingSeedsError(ValueError):
    """A re-training file is missing or unreadable (names the file)."""


def load(results: str | Path, params: dict) -> list[dict]:
    """The re-training files of casing_seeds.families x hpo.train_variants ([] with seeds 0)."""
    block = params["casing_seeds"]
    if int(block["seeds"]) <= 0:
        return []
    return [
        read_json(
            under(results, layout.CASING_SEEDS_FILE, family=family, variant=variant),
            CasingSeedsError,
        )
        for family in block["families"]
        for variant in params["hpo"]["train_variants"]
    ]


def compute(loaded: list[dict]) -> list[dict]:
    """Per family and training variant: mean, sd and n over the seeds of F1 on each evaluation
    variant and split, of the drops from cased to the lowercased variants, and the cost."""
    rows = []
    for item in loaded:
        runs = item.get("runs", [])
        if not runs:
            continue
        row = {
            "family": item["family"],
            "train_variant": item["train_variant"],
            "algorithm": item["algorithm"],
            "config": item["config"],
            "seeds": item["seeds"],
            "seconds": sum(r.get("train_seconds", 0) + r.get("eval_seconds", 0) for r in runs),
        }
        for split in SPLITS:
            names = list(runs[0]["scores"][split])
            order = [v for v in VARIANTS if v in names] + sorted(set(names) - set(VARIANTS))
            row[split] = {v: _stats([r["scores"][split][v] for r in runs]) for v in order}
            row[f"{split}_drops"] = {
                v: _stats([r["scores"][split][CASED] - r["scores"][split][v] for r in runs])
                for v in LOWERED
                if v in names and CASED in names
            }
            row[f"{split}_worst"] = _stats([min(r["scores"][split].values()) for r in runs])
        rows.append(row)
    return rows


def _stats(values: list[float]) -> dict:
    mean, std, n = mean_std(values)
    return {"mean": mean, "std": std, "n": n}


def _pm(stats: dict) -> str:
    if math.isnan(stats["mean"]):
        return "–"
    if math.isnan(stats["std"]):
        return f"{stats['mean']:.3f}"
    return f"{stats['mean']:.3f} ± {stats['std']:.3f}"


def markdown(rows: list[dict]) -> str:
    """The Findings' part on the seed spread (empty without re-trainings)."""
    if not rows:
        return ""
    from tabulate import tabulate

    n = rows[0]["dev"][next(iter(rows[0]["dev"]))]["n"]
    minutes = sum(r["seconds"] for r in rows) / 60
    text = [
        "#### Seed spread of the casing robustness",
        f"Each training variant's best configuration (the best of its main studies) re-trained "
        f"with {n} training seeds, each model evaluated on every variant: dev F1, mean ± sd over "
        f"the seeds. This took {minutes:.1f} minutes of training and evaluation "
        f"({len(rows)} training variants x {n} seeds).",
    ]
    variants = list(rows[0]["dev"])
    headers = ["family", "training variant", *variants, "worst", *(f"drop to {v}" for v in LOWERED)]
    body = []
    for row in rows:
        drops = row["dev_drops"]
        body.append(
            [
                row["family"],
                row["train_variant"],
                *(_pm(row["dev"][v]) for v in variants),
                _pm(row["dev_worst"]),
                *(_pm(drops[v]) if v in drops else "–" for v in LOWERED),
            ]
        )
    align = ("left", "left", *("right",) * (len(headers) - 2))
    text.append(tabulate(body, headers, tablefmt="github", colalign=align, disable_numparse=True))
    text.append(_sentence(rows))
    return "\n\n".join(text)


def _sentence(rows: list[dict]) -> str:
    """Which training variant holds up best over the seeds, and whether its lead exceeds them."""
    parts = []
    for family in dict.fromkeys(r["family"] for r in rows):
        mine = [r for r in rows if r["family"] == family]
        ranked = sorted(mine, key=lambda r: (-r["dev_worst"]["mean"], r["train_variant"]))
        top = ranked[0]
        sentence = (
            f"For `{family}`, `{top['train_variant']}` has the best worst case over the seeds "
            f"({_pm(top['dev_worst'])})"
        )
        if len(ranked) > 1:
            second = ranked[1]
            gap = top["dev_worst"]["mean"] - second["dev_worst"]["mean"]
            spread = max(top["dev_worst"]["std"], second["dev_worst"]["std"])
            verdict = (
                "more than the larger seed sd"
                if not math.isnan(spread) and gap > spread
                else "within the seed sd: not distinguishable"
            )
            sentence += (
                f", {gap:.3f} ahead of `{second['train_variant']}` "
                f"({_pm(second['dev_worst'])}; {verdict})"
            )
        config = ", ".join(f"{k} {_hp(v)}" for k, v in top["config"].items())
        parts.append(
            sentence + f". Its configuration (the best main study's, `{top['algorithm']}`): "
            f"{config}."
        )
    return " ".join(parts)


def _hp(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def to_json(rows: list[dict]) -> dict:
    return {"rows": rows}
