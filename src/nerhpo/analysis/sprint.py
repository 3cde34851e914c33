"""Progressive-fidelity sprints: a cheap round narrows the search space of the full round.

Why: most of a search's epochs go to configurations that a coarse look would have ruled out.
The cheap round (``sprint``: a share ``data_fraction`` of the training sentences, at most
``max_epochs`` epochs, ``num_samples`` trials) is run with the same algorithm; its importance,
its border check and its ``keep`` best configurations define a narrower search space, which
the full round (``hpo.num_samples`` trials of ``hpo.max_epochs`` epochs on all the data) then
searches. The findings compare the full round's best dev F1 and the CPU time of both rounds
with the single full round on the whole space (the main study of the same family, variant,
algorithm and seed).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd

from nerhpo.core import layout
from nerhpo.core.layout import under
from nerhpo.core.process_cpu import tree_cpu_seconds  # noqa: F401 (the cost of a round)
from nerhpo.core.result_files import read_csv, read_json
from nerhpo.data.corpus import read_corpus, write_corpus

MISSING = "–"


# -- the cheap round's data ---------------------------------------------------------------------
def subset_data(data_dir: str | Path, out_dir: str | Path, fraction: float, seed: int) -> dict:
    """Write a seeded share ``fraction`` of the training sentences (dev and test whole).

    Dev stays whole so both rounds are scored on the same sentences; test is copied only so the
    folder looks like any other data folder (nothing here reads it).
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    train = read_corpus(data_dir / "train.tsv")
    n = max(1, round(fraction * len(train)))
    chosen = sorted(random.Random(seed).sample(range(len(train)), n))
    write_corpus(out_dir / "train.tsv", [train[i] for i in chosen])
    for split in ("dev", "test"):
        write_corpus(out_dir / f"{split}.tsv", read_corpus(data_dir / f"{split}.tsv"))
    return {"train_sentences": n, "of": len(train), "fraction": fraction, "seed": seed}


def cheap_overrides(sprint: dict, hpo: dict) -> dict:
    """hpo settings of the cheap round; schedulers' intervals cut to its epochs."""
    epochs = int(sprint["max_epochs"])
    out = {"num_samples": int(sprint["num_samples"]), "max_epochs": epochs}
    for name in ("asha", "tpe"):
        out[name] = {**hpo[name], "grace_period": min(int(hpo[name]["grace_period"]), epochs)}
    pbt = hpo["pbt"]
    out["pbt"] = {**pbt, "perturbation_interval": min(int(pbt["perturbation_interval"]), epochs)}
    return out


# -- narrowing the search space ---------------------------------------------------------------
def _to(spec: dict, value: float) -> float:
    return math.log(value) if spec["type"] == "loguniform" else float(value)


def _from(spec: dict, value: float):
    if spec["type"] == "loguniform":
        return float(math.exp(value))
    if spec["type"] == "int":
        return int(round(value))
    return float(value)


def narrow_space(
    space: dict,
    trials: pd.DataFrame,
    importances: pd.DataFrame,
    keep: int,
    pad: float,
    min_importance: float,
    margin: float = 0.1,
) -> tuple[dict, list[dict]]:
    """The narrowed search space and, per parameter, what was done and why.

    * the ``keep`` best finished trials (by dev F1, ties by the trial's creation
      number, which a seeded study repeats, unlike its id) span each range, widened
      by ``pad`` x the original width on each side (log scale for log-uniform), clipped to the
      original range, except on a side where the border check flagged the best value: there the
      range extends to the border check's suggestion;
    * choices keep the values the kept trials used (plus a suggested value beyond a flagged end);
    * a parameter whose fANOVA importance is below ``min_importance`` keeps its whole range
      (narrowing what does not matter gains nothing and may cut the optimum); without an
      importance (too few trials) every parameter is narrowed.
    """
    from nerhpo.analysis.findings import border_check, finished

    tie = "trial" if "trial" in trials else "trial_id"
    ok = finished(trials).sort_values(["best_dev_f1", tie], ascending=[False, True])
    top = ok.head(max(1, int(keep)))
    imp = dict(zip(importances["param"], importances["importance"])) if len(importances) else {}
    # the border check looks at the best configuration only (as for the main studies)
    configs = [{n: r[n] for n in space if n in r} for _, r in top.head(1).iterrows()]
    flags = border_check(configs, space, margin=margin)
    new, notes = {}, []
    for name, spec in space.items():
        spec = {k: v for k, v in spec.items() if k != "grid"}
        note = {"param": name, "importance": imp.get(name), "original": _range(spec)}
        if top.empty or name not in top:
            new[name] = spec
            notes.append({**note, "narrowed": _range(spec), "why": "no finished trials"})
            continue
        if imp and imp.get(name, 0.0) < min_importance:
            new[name] = spec
            why = f"importance {imp.get(name, 0.0):.3f} < {min_importance:g}: whole range kept"
            notes.append({**note, "narrowed": _range(spec), "why": why})
            continue
        sides = {f["bound"]: f for f in flags if f["param"] == name and f["suggested"]}
        values = top[name].tolist()
        if spec["type"] == "choice":
            used = [v for v in spec["values"] if any(v == u for u in values)]
            used += [u for u in dict.fromkeys(values) if not any(u == v for v in spec["values"])]
            for side, flag in sides.items():
                extra = [v for v in flag["suggested"] if v not in spec["values"]]
                used = extra + used if side == "low" else used + extra
            new[name] = {"type": "choice", "values": [_plain(v) for v in used]}
            why = f"values of the {len(top)} best trial(s)"
        else:
            lo_t, hi_t = _to(spec, spec["low"]), _to(spec, spec["high"])
            width = hi_t - lo_t
            t = [_to(spec, v) for v in values]
            low, high = min(t) - pad * width, max(t) + pad * width
            low, high = max(low, lo_t), min(high, hi_t)
            if "low" in sides:
                low = _to(spec, sides["low"]["suggested"][0])
            if "high" in sides:
                high = _to(spec, sides["high"]["suggested"][1])
            if high <= low:  # one value and no padding: a sliver around it
                low, high = low - 1e-3 * width, high + 1e-3 * width
            new[name] = {"type": spec["type"], "low": _from(spec, low), "high": _from(spec, high)}
            why = f"span of the {len(top)} best trial(s) ± {pad:g} of the width"
        if sides:
            why += "; extended beyond the " + " and ".join(sorted(sides)) + " bound (border)"
        notes.append({**note, "narrowed": _range(new[name]), "why": why})
    return new, notes


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _range(spec: dict) -> list:
    if spec["type"] == "choice":
        return [_plain(v) for v in spec["values"]]
    return [_plain(spec["low"]), _plain(spec["high"])]


# -- CPU time of a study ------------------------------------------------------------------------
# -- the comparison ---------------------------------------------------------------------------
def _read(path: Path):
    from nerhpo.analysis.compare import CompareError

    if path.suffix == ".csv":
        return read_csv(path, CompareError)
    return read_json(path, CompareError)


def round_row(label: str, study_dir: Path) -> dict:
    summary = _read(study_dir / "summary.json")
    trials = _read(study_dir / "trials.csv")
    cost = study_dir / "cost.json"
    cpu = json.loads(cost.read_text())["cpu_seconds"] if cost.is_file() else None
    return {
        "round": label,
        "trials": int(summary.get("trials", len(trials))),
        "epochs": int(summary.get("epochs", 0)),
        "best_dev_f1": float(summary["best_dev_f1"]),
        "wall_seconds": float(summary.get("wall_seconds", math.nan)),
        "trial_seconds": float(trials["wall_seconds"].fillna(0).sum()),
        "cpu_seconds": cpu,
    }


def load_sprint(params: dict, results: str | Path = "results") -> dict:
    """Rows for the cheap round, the narrowed full round, both together and the single round."""
    results = Path(results)
    s = params["sprint"]
    cheap = round_row("cheap round", under(results, layout.SPRINT_CHEAP_DIR))
    full = round_row("full round, narrowed space", under(results, layout.SPRINT_FULL_DIR))
    single = round_row(
        "single full round, whole space",
        under(
            results,
            layout.STUDY_DIR,
            family=s["family"],
            variant=s["variant"],
            algorithm=s["algorithm"],
        ),
    )
    # epochs in units of a full-data epoch: a cost measure that machine load does not change
    cheap["data_epochs"] = cheap["epochs"] * float(s["data_fraction"])
    full["data_epochs"], single["data_epochs"] = float(full["epochs"]), float(single["epochs"])
    both = {
        "round": "sprint total (cheap + full)",
        "trials": cheap["trials"] + full["trials"],
        "epochs": None,
        "best_dev_f1": full["best_dev_f1"],
    }
    for key in ("wall_seconds", "trial_seconds", "data_epochs"):
        both[key] = cheap[key] + full[key]
    both["cpu_seconds"] = (
        cheap["cpu_seconds"] + full["cpu_seconds"]
        if cheap["cpu_seconds"] is not None and full["cpu_seconds"] is not None
        else None
    )
    space = _read(under(results, layout.SPRINT_SPACE))
    return {"rows": [cheap, full, both, single], "space": space}


def _num(value, fmt: str) -> str:
    return (
        MISSING
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (format(value, fmt))
    )


def markdown(params: dict, data: dict, seed_std: float = math.nan) -> str:
    """The sprint's part of the Findings: both rounds against the single full round."""
    s, hpo = params["sprint"], params["hpo"]
    cheap, full, both, single = data["rows"]
    parts = [
        "### Progressive-fidelity sprint",
        (
            f"On {s['family']}/{s['variant']} with `{s['algorithm']}` (seed {params['seed']}): a "
            f"cheap round of {s['num_samples']} trials × at most {s['max_epochs']} epochs on "
            f"{s['data_fraction']:.0%} of the training sentences narrowed the search space "
            f"(the {s['keep']} best configurations ± {s['pad']:g} of each range; parameters "
            f"with importance < {s['min_importance']:g} kept their whole range); the full round "
            f"then ran {hpo['num_samples']} trials × at most {hpo['max_epochs']} epochs on all "
            "the data. Full-data epochs: epochs × the share of the training data (the cost "
            "measure that machine load does not change). Trial seconds: the sum of the trials' "
            "training times (1 CPU per trial); CPU seconds: measured for the whole process tree "
            "where recorded (the main study records none). Seconds depend on what else ran on "
            "the machine at the time."
        ),
    ]
    rows = [
        [
            r["round"],
            str(r["trials"]),
            _num(r["epochs"], "d"),
            _num(r["data_epochs"], ".1f"),
            _num(r["best_dev_f1"], ".4f"),
            _num(r["wall_seconds"], ".0f"),
            _num(r["trial_seconds"], ".0f"),
            _num(r["cpu_seconds"], ".0f"),
        ]
        for r in data["rows"]
    ]
    parts.append(
        _table(
            [
                "round",
                "trials",
                "epochs",
                "full-data epochs",
                "best dev F1",
                "wall s",
                "trial s",
                "CPU s",
            ],
            rows,
        )
    )
    gap = full["best_dev_f1"] - single["best_dev_f1"]
    ratio = both["data_epochs"] / single["data_epochs"] if single["data_epochs"] else math.nan
    text = (
        f"The sprint's best dev F1 is {full['best_dev_f1']:.4f} against {single['best_dev_f1']:.4f} "
        f"for the single round (difference {gap:+.4f}), at {ratio:.2f}× its full-data epochs."
    )
    if single["best_dev_f1"] > 0:
        share = cheap["best_dev_f1"] / single["best_dev_f1"]
        text += (
            f" The cheap round itself reached {cheap['best_dev_f1']:.4f} ({share:.0%} of the "
            "single round's best); the lower that share, the more its ranking of configurations "
            "rests on barely trained models."
        )
    if not math.isnan(seed_std):
        text += (
            f" One study each, so no spread of its own; against the training-seed noise of the "
            f"comparison above (std {seed_std:.4f}) the difference is "
            + ("larger." if abs(gap) > seed_std else "**not** larger: no difference shown.")
        )
    else:
        text += " One study each: an anecdote, not a measured difference."
    parts.append(text)
    rows = [
        [
            f"`{n['param']}`",
            MISSING if n.get("importance") is None else f"{n['importance']:.3f}",
            _fmt_range(n["original"]),
            _fmt_range(n["narrowed"]),
            n["why"],
        ]
        for n in data["space"].get("notes", [])
    ]
    if rows:
        parts.append(
            _table(["parameter", "cheap-round importance", "whole range", "narrowed", "why"], rows)
        )
    return "\n\n".join(parts)


def _fmt_range(values) -> str:
    out = []
    for v in values:
        out.append(f"{v:.3g}" if isinstance(v, float) else str(v))
    return "[" + ", ".join(out) + "]"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
