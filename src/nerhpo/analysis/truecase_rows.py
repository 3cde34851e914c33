"""The truecasing baseline as extra rows: a cased-trained model on cased, on uncased, and on
uncased text truecased first (the route ``uncased+truecase`` of the evaluation files).

Why: the literature's answer to lowercased input is not always to re-train but to restore the
casing before a cased model (Mayhew et al., EMNLP 2019: English CoNLL-03, 92.45 F1 on cased
text, 34.46 on lowercased, 82.93 lowercased then truecased). These rows put that route beside
the training variants. "Gap closed" is the share of the cased-to-uncased drop that truecasing
wins back, (truecased - uncased) / (cased - uncased).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from nerhpo.core import layout
from nerhpo.core.layout import under
from nerhpo.core.result_files import ResultFileError, read_json

CASED, UNCASED, ROUTE = "cased", "uncased", "uncased+truecase"
SPLITS = ("dev", "test")
LITERATURE = {"cased": 0.9245, "uncased": 0.3446, "truecased": 0.8293}  # Mayhew et al. 2019
MISSING = "–"


def load_truecase_rows(
    results: str | Path,
    families: Sequence[str],
    algorithms: Sequence[str],
    error: type[Exception] = ResultFileError,
) -> list[dict]:
    """One row per cased-trained model (family x algorithm): F1 on cased, uncased and
    uncased+truecase for dev and test, the gap closed, and the truecaser's token accuracy.
    A missing evaluation file raises ``error``; a file without the route gives None cells."""
    rows = []
    for family in families:
        for algorithm in algorithms:
            fields = {"family": family, "variant": CASED, "algorithm": algorithm}
            data = read_json(under(results, layout.EVAL_FILE, **fields), error)
            rows.append(truecase_row(data, family, algorithm))
    return rows


def truecase_row(data: dict, family: str, algorithm: str) -> dict:
    """The row of one evaluation file (its JSON, parsed)."""
    scores = data.get("scores", {})
    route = data.get("routes", {}).get(ROUTE, {})
    row: dict = {"family": family, "algorithm": algorithm}
    for split in SPLITS:
        cased = _f1(scores.get(split, {}).get(CASED))
        uncased = _f1(scores.get(split, {}).get(UNCASED))
        truecased = _f1(route.get("scores", {}).get(split))
        row[f"{split}_cased"] = cased
        row[f"{split}_uncased"] = uncased
        row[f"{split}_truecased"] = truecased
        row[f"{split}_gap_closed"] = gap_closed(cased, uncased, truecased)
        accuracy = route.get("token_accuracy", {}).get(split, {})
        row[f"{split}_token_accuracy"] = accuracy.get("accuracy")
    return row


def gap_closed(cased: float | None, uncased: float | None, truecased: float | None):
    """(truecased - uncased) / (cased - uncased); None without a drop to close."""
    if None in (cased, uncased, truecased) or cased <= uncased:
        return None
    return (truecased - uncased) / (cased - uncased)


def _f1(score: dict | None) -> float | None:
    return None if not score or score.get("f1") is None else float(score["f1"])


def _cell(value: float | None) -> str:
    return MISSING if value is None else f"{value:.4f}"


def truecase_markdown(rows: Sequence[dict], literature: bool = True) -> str:
    """The rows as a Markdown table (F1 to four places), with the English reference line."""
    headers = ["Tag Family", "HPO Alg"]
    for split in SPLITS:
        headers += [f"{split} cased", f"{split} uncased", f"{split} uncased+truecase"]
        headers += [f"{split} gap closed"]
    headers += ["truecaser token acc. (dev)"]
    body = [
        [r["family"], r["algorithm"]]
        + [
            _cell(r[f"{split}_{k}"])
            for split in SPLITS
            for k in ("cased", "uncased", "truecased", "gap_closed")
        ]
        + [_cell(r["dev_token_accuracy"])]
        for r in rows
    ]
    align = ("left", "left") + ("right",) * (len(headers) - 2)
    table = tabulate(body, headers, tablefmt="pipe", disable_numparse=True, colalign=align)
    text = (
        "Models trained on `cased`, scored on cased text, on its lowercased copy, and on the "
        "lowercased copy truecased first (`uncased+truecase`: a statistical truecaser trained "
        "on the cased training split, `nerhpo.data.truecase`). Gap closed: the share of the "
        "cased-to-uncased drop that truecasing wins back. Truecaser token accuracy: truecased "
        "dev tokens equal to the cased ones.\n\n" + table
    )
    if literature:
        lit = LITERATURE
        closed = gap_closed(lit["cased"], lit["uncased"], lit["truecased"])
        text += (
            f"\n\nFor reference, Mayhew et al. (EMNLP 2019, English CoNLL-03 test): cased "
            f"{lit['cased']:.4f}, lowercased {lit['uncased']:.4f}, lowercased then truecased "
            f"{lit['truecased']:.4f} (gap closed {closed:.4f})."
        )
    return text
