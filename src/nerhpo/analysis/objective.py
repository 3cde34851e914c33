"""The robustness-aware objective against the default one, at the same budget.

Why: a study scored on its own training variant's dev F1 picks the configuration that is best
on that variant; a study scored on the worst (or mean) dev F1 over every casing variant picks
the one that holds up on all of them. This module sets the two side by side for each training
variant of ``objectives``: which hyperparameters the study chose, the dev and test F1 of its
best model on every variant (its worst case among them), what it costs on cased text, and what
the extra dev sets cost in time. One study per objective and variant: a difference smaller
than the training-seed noise says nothing, and the text says so.

``load`` reads plain data, ``compute`` turns it into rows, ``markdown`` renders them.
"""

from __future__ import annotations

import math
from pathlib import Path

from nerhpo.core import layout
from nerhpo.core.hparams import HPARAMS
from nerhpo.core.layout import under
from nerhpo.core.result_files import read_json
from nerhpo.data.casing import VARIANTS

CASED = "cased"
SPLITS = ("dev", "test")


class ObjectiveError(ValueError):
    """A result file of the objective comparison is missing or unreadable (names the file)."""


def load(results: str | Path, params: dict) -> list[dict]:
    """Per training variant of ``objectives``: the main study (hpo.objective) and the study under
    objectives.objective, each with its best.json, summary.json and evaluation."""
    block = params["objectives"]
    family, algorithm = block["family"], block["algorithm"]
    out = []
    for variant in block["train_variants"]:
        study = {"family": family, "variant": variant, "algorithm": algorithm}
        main_dir = under(results, layout.STUDY_DIR, **study)
        other_dir = under(results, layout.OBJECTIVE_DIR, variant=variant)
        out.append(
            {
                "family": family,
                "train_variant": variant,
                "algorithm": algorithm,
                "objectives": (params["hpo"]["objective"], block["objective"]),
                "studies": [
                    {
                        "best": read_json(main_dir / "best.json", ObjectiveError),
                        "summary": read_json(main_dir / "summary.json", ObjectiveError),
                        "eval": read_json(
                            under(results, layout.EVAL_FILE, **study), ObjectiveError
                        ),
                    },
                    {
                        "best": read_json(other_dir / "best.json", ObjectiveError),
                        "summary": read_json(other_dir / "summary.json", ObjectiveError),
                        "eval": read_json(other_dir / "eval.json", ObjectiveError),
                    },
                ],
            }
        )
    return out


def _f1(evaluation: dict, split: str) -> dict[str, float]:
    scores = evaluation.get("scores", {}).get(split, {})
    order = [v for v in VARIANTS if v in scores] + sorted(set(scores) - set(VARIANTS))
    return {v: float(scores[v]["f1"]) for v in order}


def _seconds(summary: dict) -> dict:
    return {
        "wall": float(summary.get("wall_seconds", math.nan)),
        "train": float(summary.get("train_seconds", math.nan)),
        "eval": float(summary.get("eval_seconds", math.nan)),
    }


def compute(loaded: list[dict]) -> list[dict]:
    """One row per training variant: per objective its configuration, F1 per split and variant,
    mean and worst case; and the differences (other objective minus the main studies')."""
    rows = []
    for item in loaded:
        sides = []
        for name, study in zip(item["objectives"], item["studies"]):
            side = {
                "objective": name,
                "config": {k: study["best"]["config"].get(k) for k in HPARAMS},
                "epoch": study["best"].get("epoch"),
                "seconds": _seconds(study["summary"]),
            }
            for split in SPLITS:
                f1 = _f1(study["eval"], split)
                side[split] = f1
                side[f"{split}_worst"] = min(f1.values()) if f1 else math.nan
                side[f"{split}_worst_variant"] = min(f1, key=f1.get) if f1 else ""
                side[f"{split}_mean"] = sum(f1.values()) / len(f1) if f1 else math.nan
            sides.append(side)
        main, other = sides
        diff = {}
        for split in SPLITS:
            diff[f"{split}_worst"] = other[f"{split}_worst"] - main[f"{split}_worst"]
            diff[f"{split}_mean"] = other[f"{split}_mean"] - main[f"{split}_mean"]
            diff[f"{split}_cased"] = other[split].get(CASED, math.nan) - main[split].get(
                CASED, math.nan
            )
        main_eval = main["seconds"]["eval"] / max(1e-9, main["seconds"]["train"])
        other_eval = other["seconds"]["eval"] / max(1e-9, other["seconds"]["train"])
        rows.append(
            {
                "family": item["family"],
                "train_variant": item["train_variant"],
                "algorithm": item["algorithm"],
                "main": main,
                "other": other,
                "diff": diff,
                "changed": {
                    k: (main["config"][k], other["config"][k])
                    for k in HPARAMS
                    if main["config"][k] != other["config"][k]
                },
                # evaluation seconds per training second, under each objective
                "eval_share": (main_eval, other_eval),
                "wall_ratio": other["seconds"]["wall"] / max(1e-9, main["seconds"]["wall"]),
            }
        )
    return rows


def _num(value: float, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def _hp(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _beyond(diff: float, seed_std: float) -> str:
    if math.isnan(seed_std) or math.isnan(diff):
        return "(no seed noise measured to judge it)"
    if abs(diff) > seed_std:
        return f"(beyond the training-seed sd of {seed_std:.4f})"
    return f"(within the training-seed sd of {seed_std:.4f}: not distinguishable)"


def markdown(rows: list[dict], seed_std: float = math.nan) -> str:
    """The Findings' part on the robustness-aware objective."""
    if not rows:
        return ""
    main_name, other_name = rows[0]["main"]["objective"], rows[0]["other"]["objective"]
    text = [
        "### Robustness-aware objective",
        f"Each study below ran twice at the same budget: scored on `{main_name}` (the main "
        f"study) and on `{other_name}` (`hpo.objective`; {_meaning(other_name)}); both best "
        "models were then evaluated on every variant. One study per objective and training "
        "variant, so each difference carries one HPO seed's luck.",
    ]
    for row in rows:
        main, other, diff = row["main"], row["other"], row["diff"]
        tag = f"{row['family']}/{row['train_variant']}/{row['algorithm']}"
        changed = (
            ", ".join(f"{k} {_hp(a)} → {_hp(b)}" for k, (a, b) in row["changed"].items())
            or "none: the same configuration won (both studies draw the same candidates from "
            "one HPO seed, so the objective can change only which of them wins, and which the "
            "scheduler stops)"
        )
        text.append(
            f"**{tag}.** Under `{other_name}` the worst-case dev F1 over the variants is "
            f"{_num(other['dev_worst'])} (`{other['dev_worst_variant']}`) against "
            f"{_num(main['dev_worst'])} (`{main['dev_worst_variant']}`) under `{main_name}`, "
            f"{_num(diff['dev_worst'], True)} {_beyond(diff['dev_worst'], seed_std)}; on cased "
            f"dev text {_num(other['dev'].get(CASED, math.nan))} against "
            f"{_num(main['dev'].get(CASED, math.nan))} ({_num(diff['dev_cased'], True)}). "
            f"On test: worst case {_num(diff['test_worst'], True)}, cased "
            f"{_num(diff['test_cased'], True)}. Hyperparameters that changed: {changed}."
        )
    if all(not r["changed"] for r in rows):
        text.append(
            f"On this budget `{other_name}` chose what `{main_name}` chose in every study: a "
            "robustness-aware objective needs more candidates to choose from (hpo.num_samples) "
            "before it can buy robustness; here the robustness came from the training variant."
        )
    text.append(_table(rows, main_name, other_name))
    shares = [r["eval_share"] for r in rows]
    ratio = [r["wall_ratio"] for r in rows]
    text.append(
        f"Cost: scoring every variant's dev set each epoch took "
        f"{_mean([s[1] for s in shares]):.2f} s of evaluation per second of training under "
        f"`{other_name}` against {_mean([s[0] for s in shares]):.2f} under `{main_name}`; the "
        f"studies' wall time was {_mean(ratio):.2f}x the main studies' (mean over "
        f"{len(rows)})."
    )
    return "\n\n".join(text)


def _meaning(objective: str) -> str:
    return {
        "worst": "the minimum dev F1 over every evaluation variant",
        "mean": "the mean dev F1 over every evaluation variant",
        "own": "the dev F1 of the training variant",
    }.get(objective, objective)


def _mean(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def _table(rows: list[dict], main_name: str, other_name: str) -> str:
    from tabulate import tabulate

    variants = list(rows[0]["main"]["dev"])
    headers = ["training variant", "objective", *variants, "worst", "mean"]
    body = []
    for row in rows:
        for side in (row["main"], row["other"]):
            body.append(
                [
                    row["train_variant"],
                    side["objective"],
                    *(_num(side["dev"].get(v, math.nan)) for v in variants),
                    _num(side["dev_worst"]),
                    _num(side["dev_mean"]),
                ]
            )
    caption = f"Dev F1 of the best model per objective (`{main_name}` against `{other_name}`):"
    align = ("left", "left", *("right",) * (len(headers) - 2))
    return (
        caption
        + "\n\n"
        + tabulate(body, headers, tablefmt="github", colalign=align, disable_numparse=True)
    )


def to_json(rows: list[dict]) -> dict:
    return {"studies": rows}
