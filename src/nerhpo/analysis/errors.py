"""Error analysis: the entities cased-trained models find on cased text but miss on its
uncased copy, per tag family, from the results/errors/ files the evaluate stage writes.

Why: the casing tables say how much F1 a model loses on lowercased text; this says what it
loses: per entity type how many of the entities found on cased text are missed on uncased
(the rate), and which entities (type and cased surface text) are missed most often. Counts are
summed over the family's models (one per algorithm); ``models`` says in how many of them an
entity was missed. Found means an exact span and type match with gold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from nerhpo.core import layout
from nerhpo.core.layout import under
from nerhpo.core.result_files import ResultFileError, read_json

CASED = "cased"
SPLITS = ("dev", "test")
TOP = 20


def load_errors(
    results: str | Path,
    families: Sequence[str],
    algorithms: Sequence[str],
    train_variant: str = CASED,
    error: type[Exception] = ResultFileError,
) -> list[dict]:
    """The error files of the models trained on ``train_variant`` (a missing one: ``error``)."""
    out = []
    for family in families:
        for algorithm in algorithms:
            fields = {"family": family, "variant": train_variant, "algorithm": algorithm}
            data = read_json(under(results, layout.ERRORS_FILE, **fields), error)
            out.append({"family": family, "algorithm": algorithm, **data})
    return out


def aggregate_errors(files: Sequence[dict], splits: Sequence[str] = SPLITS, top: int = TOP) -> dict:
    """Per family and split: counts by type (found on cased, missed on uncased, rate) and the
    ``top`` most often missed entities (ties by type, then text), summed over the models."""
    out: dict = {}
    for f in files:
        family = out.setdefault(f["family"], {"models": [], "skipped": [], "splits": {}})
        if "splits" not in f:
            family["skipped"].append(f["algorithm"])
            continue
        family["models"].append(f["algorithm"])
        for split in splits:
            data = f["splits"].get(split)
            if data is None:
                continue
            acc = family["splits"].setdefault(split, {"by_type": {}, "missed": Counter(), "in": {}})
            for t, c in data["by_type"].items():
                row = acc["by_type"].setdefault(t, Counter())
                row.update({k: c[k] for k in ("gold", "found_cased", "missed_uncased")})
            for m in data["missed"]:
                key = (m["type"], m["text"])
                acc["missed"][key] += m["count"]
                acc["in"][key] = acc["in"].get(key, 0) + 1
    return {name: _finish(family, top) for name, family in sorted(out.items())}


def _finish(family: dict, top: int) -> dict:
    splits = {}
    for split, acc in family["splits"].items():
        by_type = {}
        for t, c in sorted(acc["by_type"].items()):
            found, missed = c["found_cased"], c["missed_uncased"]
            by_type[t] = {
                "gold": c["gold"],
                "found_cased": found,
                "missed_uncased": missed,
                "rate": missed / found if found else None,
            }
        ranked = sorted(acc["missed"].items(), key=lambda item: (-item[1], item[0]))
        splits[split] = {
            "by_type": by_type,
            "missed_total": sum(acc["missed"].values()),
            "top_missed": [
                {"type": t, "text": text, "count": n, "models": acc["in"][(t, text)]}
                for (t, text), n in ranked[:top]
            ],
        }
    return {"models": family["models"], "skipped": family["skipped"], "splits": splits}


def errors_summary(
    results: str | Path, params: dict, top: int = TOP, error: type[Exception] = ResultFileError
) -> dict:
    """The aggregate over the main studies' cased-trained models (params hpo.families,
    hpo.algorithms); empty when ``cased`` is not among hpo.train_variants."""
    hpo = params["hpo"]
    if CASED not in hpo["train_variants"]:
        return {}
    files = load_errors(results, hpo["families"], hpo["algorithms"], CASED, error)
    return aggregate_errors(files, SPLITS, top)


def errors_markdown(summary: dict, split: str = "dev") -> str:
    """Per family: the counts by type and the most often missed entities, on ``split``."""
    if not summary:
        return "No models trained on `cased`, so no error analysis."
    parts = [
        f"Entities that the models trained on `cased` find on cased {split} text (exact span "
        "and type) but miss on its lowercased copy, summed over each family's models (one per "
        "algorithm); rate: missed / found on cased."
    ]
    for family, data in summary.items():
        s = data["splits"].get(split)
        if s is None:
            parts.append(f"**{family}**: no error analysis ({_skipped(data)}).")
            continue
        models = ", ".join(data["models"])
        rows = [
            [t, c["gold"], c["found_cased"], c["missed_uncased"], _rate(c["rate"])]
            for t, c in s["by_type"].items()
        ]
        types = tabulate(
            rows,
            ["type", "gold", "found on cased", "missed on uncased", "rate"],
            tablefmt="pipe",
            disable_numparse=True,
            colalign=("left", "right", "right", "right", "right"),
        )
        top = [[m["text"], m["type"], m["count"], m["models"]] for m in s["top_missed"]]
        missed = tabulate(
            top,
            ["entity (cased text)", "type", "missed", "models"],
            tablefmt="pipe",
            disable_numparse=True,
            colalign=("left", "left", "right", "right"),
        )
        parts.append(f"**{family}** ({models}), by type:\n\n{types}")
        parts.append(f"**{family}**, the {len(top)} most often missed entities:\n\n{missed}")
    return "\n\n".join(parts)


def _skipped(data: dict) -> str:
    return "skipped for " + ", ".join(data["skipped"]) if data["skipped"] else "no models"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"
