"""Casing robustness of the chosen models, from the evaluation files the pipeline writes.

Why: the point of the casing variants is the question "which training variant gives a model
that still finds entities when the text is lowercased, and what does that cost on cased text?".
The Dev/Test tables show every number; this module answers the question: F1 per evaluation
variant as mean ± sd over the algorithms' best models, the drop from cased to uncased and to
ne-lower, the worst case, the price of robustness, the entity types that suffer most, and
whether each difference exceeds the noise (the spread over algorithms and the training-seed
noise of the comparison's re-trainings), beside the English numbers of the literature.

Two steps: ``load_*`` and ``compute`` read and return plain data (frames, dicts); ``markdown``
and ``write_figure`` render them. Every verdict is made on dev F1; test F1 is reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from nerhpo.analysis.compare import json_ready, mean_std, pooled_std
from nerhpo.analysis.figures import pyplot, save_png
from nerhpo.core import layout
from nerhpo.core.layout import under
from nerhpo.core.result_files import read_json
from nerhpo.data.casing import VARIANTS
from nerhpo.search.repeats import compared

CASED, UNCASED, NE_LOWER = "cased", "uncased", "ne-lower"
LOWERED = (UNCASED, NE_LOWER)  # the evaluation variants a drop is measured to
SPLITS = ("dev", "test")
DECIDE = "dev"  # every verdict is made on dev F1; test F1 is reported only
MISSING = "–"
_KEY = ("family", "train_variant", "algorithm")  # one best model
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES = ("-", "--", ":", "-.")
DROP_COLUMNS = (
    "family",
    "split",
    "train_variant",
    "to",
    "drop",
    "sd",
    "n",
    "se",
    "noise",
    "exceeds",
)
PRICE_COLUMNS = ("family", "split", "train_variant", "eval_variant", "diff", "se", "n", "n_ref")
PRICE_COLUMNS += ("noise", "exceeds")
TYPE_COLUMNS = ("family", "split", "type", "support", "cased", "uncased", "drop", "sd", "n")
# Mayhew et al. 2019, English CoNLL-03 test F1 (cased, lowercased) and this run's counterpart
LITERATURE = (
    ("trained on cased text", 0.9245, 0.3446, CASED),
    ("cased text plus a lowercased copy", 0.9167, 0.8931, "uncased-cased-both"),
    ("half of the sentences lowercased", 0.9168, 0.8905, "uncased-cased-mix"),
    ("cased model, lowercased test text truecased first", None, 0.8293, None),
)
MAYHEW = (
    "Mayhew, Tsygankova & Roth (2019), *ner and pos when nothing is capitalized*, "
    "EMNLP-IJCNLP 2019, pp. 6256–6261, https://aclanthology.org/D19-1650"
)
BODAPATI = (
    "Bodapati, Yun & Al-Onaizan (2019), *Robustness to Capitalization Errors in Named Entity "
    "Recognition*, W-NUT 2019, pp. 237–242, https://aclanthology.org/D19-5531"
)


class CasingError(ValueError):
    """Missing or unreadable inputs (one line, naming the file)."""


# -- inputs -----------------------------------------------------------------------------------
def load_evals(
    results: str | Path,
    families: Sequence[str],
    variants: Sequence[str],
    algorithms: Sequence[str],
    error: type[Exception] = CasingError,
) -> list[dict]:
    """Each main study's evaluation JSON (its best model on every casing variant).

    A missing or unreadable file raises ``error`` naming it: a study silently left out would
    change every mean.
    """
    out = []
    for family in families:
        for variant in variants:
            for algorithm in algorithms:
                fields = {"family": family, "variant": variant, "algorithm": algorithm}
                path = under(results, layout.EVAL_FILE, **fields)
                data = read_json(path, error)
                out.append(
                    {
                        "family": family,
                        "train_variant": variant,
                        "algorithm": algorithm,
                        "scores": data.get("scores", {}),
                    }
                )
    return out


def load_seed_noise(
    results: str | Path, params: dict, error: type[Exception] = CasingError
) -> dict:
    """Training-seed noise: the pooled std (compare.pooled_std) of the comparison's re-trainings.

    Why: two models trained alike with other seeds differ by this much, so a casing difference
    smaller than it says nothing. The re-trainings score only their training variant's dev and
    test F1, so this is the noise of in-variant dev F1, used as the noise of every variant.
    """
    hpo = params["hpo"]
    out = {"std": math.nan, "dof": 0, "runs": 0, "pairs": [], "split": DECIDE}
    if int(hpo.get("retrain_seeds", 0)) <= 0:
        return out
    groups, pairs = [], []
    for family, variant, algorithm in compared(params):
        fields = {"family": family, "variant": variant, "algorithm": algorithm}
        data = read_json(under(results, layout.RETRAIN_FILE, **fields), error)
        groups += [[r[f"{DECIDE}_f1"] for r in s.get("runs", [])] for s in data.get("studies", [])]
        pairs.append(f"{family}/{variant}")
    std, dof = pooled_std(groups)
    out.update(std=std, dof=dof, runs=sum(len(g) for g in groups), pairs=list(dict.fromkeys(pairs)))
    return out


# -- compute ----------------------------------------------------------------------------------
def _ordered(names) -> list[str]:
    """Evaluation variants in the pipeline's order, unknown ones after them (sorted)."""
    known = [v for v in VARIANTS if v in names]
    return known + sorted(set(names) - set(known))


def scores_frame(evals: Sequence[dict]) -> pd.DataFrame:
    """One row per model, split and evaluation variant: its F1."""
    rows = [
        {**_key(e), "split": split, "eval_variant": variant, "f1": float(score["f1"])}
        for e in evals
        for split in SPLITS
        for variant, score in _by_variant(e, split)
        if score.get("f1") is not None
    ]
    return pd.DataFrame(rows, columns=[*_KEY, "split", "eval_variant", "f1"])


def types_frame(evals: Sequence[dict]) -> pd.DataFrame:
    """One row per model, split, evaluation variant and entity type: its F1 and support."""
    rows = [
        {
            **_key(e),
            "split": split,
            "eval_variant": variant,
            "type": name,
            "f1": float(t["f1"]),
            "support": int(t.get("support", 0)),
        }
        for e in evals
        for split in SPLITS
        for variant, score in _by_variant(e, split)
        for name, t in sorted(score.get("per_type", {}).items())
    ]
    return pd.DataFrame(rows, columns=[*_KEY, "split", "eval_variant", "type", "f1", "support"])


def _key(e: dict) -> dict:
    return {k: e[k] for k in _KEY}


def _by_variant(e: dict, split: str):
    scores = e["scores"].get(split, {})
    return [(v, scores[v]) for v in _ordered(scores)]


def _cells(frame: pd.DataFrame, *keys: str) -> dict[tuple, dict[str, float]]:
    """{(key values): {algorithm: f1}} in the frame's order."""
    out: dict[tuple, dict[str, float]] = {}
    for row in frame.itertuples(index=False):
        out.setdefault(tuple(getattr(row, k) for k in keys), {})[row.algorithm] = row.f1
    return out


def judge(diff: float, se: float, seed_std: float) -> dict:
    """Whether a difference exceeds the noise: the training-seed std and twice its standard
    error over the algorithms, whichever of the two is known (both, if both are)."""
    scales = [s for s in (seed_std, 2 * se) if not math.isnan(s)]
    if not scales or math.isnan(diff):
        return {"noise": math.nan, "exceeds": None}
    noise = max(scales)
    return {"noise": noise, "exceeds": bool(abs(diff) > noise)}


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per family, split, training and evaluation variant: mean, sd and n over the algorithms."""
    rows = []
    for (family, split, train, ev), by in _cells(
        frame, "family", "split", "train_variant", "eval_variant"
    ).items():
        mean, sd, n = mean_std(list(by.values()))
        rows.append(
            {
                "family": family,
                "split": split,
                "train_variant": train,
                "eval_variant": ev,
                "mean": mean,
                "sd": sd,
                "n": n,
                "values": dict(by),
            }
        )
    columns = ["family", "split", "train_variant", "eval_variant", "mean", "sd", "n", "values"]
    return pd.DataFrame(rows, columns=columns)


def drops(frame: pd.DataFrame, seed_std: float = math.nan) -> pd.DataFrame:
    """F1 on cased minus F1 on uncased / ne-lower, per model, then mean ± sd over the models.

    Paired per algorithm (the same model on two evaluation variants), so the sd is that of the
    drop itself, not of either F1.
    """
    cells = _cells(frame, "family", "split", "train_variant", "eval_variant")
    rows = []
    for family, split, train, ev in cells:
        if ev not in LOWERED or (family, split, train, CASED) not in cells:
            continue
        high, low = cells[(family, split, train, CASED)], cells[(family, split, train, ev)]
        diff = [high[a] - low[a] for a in high if a in low]
        mean, sd, n = mean_std(diff)
        se = sd / math.sqrt(n) if n > 1 else math.nan
        rows.append(
            {
                "family": family,
                "split": split,
                "train_variant": train,
                "to": ev,
                "drop": mean,
                "sd": sd,
                "n": n,
                "se": se,
                **judge(mean, se, seed_std),
            }
        )
    return pd.DataFrame(rows, columns=DROP_COLUMNS)


def worst(table: pd.DataFrame) -> pd.DataFrame:
    """Per family, split and training variant: the evaluation variant with the lowest mean F1."""
    if table.empty:
        return table
    keys = ["family", "split", "train_variant"]
    index = table.groupby(keys, sort=False)["mean"].idxmin()
    return table.loc[index.to_numpy()].reset_index(drop=True)


def _difference(a: dict, b: dict, seed_std: float) -> dict:
    """Mean of ``a`` minus mean of ``b`` (two sets of models), its SE and the noise verdict."""
    ma, sa, na = mean_std(list(a.values()))
    mb, sb, nb = mean_std(list(b.values()))
    se = math.sqrt(sa**2 / na + sb**2 / nb) if na > 1 and nb > 1 else math.nan
    return {"diff": ma - mb, "se": se, "n": na, "n_ref": nb, **judge(ma - mb, se, seed_std)}


def price(frame: pd.DataFrame, seed_std: float = math.nan, reference: str = CASED):
    """Every other training variant against the ``reference``-trained models, on cased,
    uncased and ne-lower evaluation text: on cased the price of robustness (negative: a loss),
    on the lowercased variants what it buys."""
    cells = _cells(frame, "family", "split", "train_variant", "eval_variant")
    rows = []
    for family, split, train, ev in cells:
        ref = cells.get((family, split, reference, ev))
        if train == reference or ev not in (CASED, *LOWERED) or ref is None:
            continue
        diff = _difference(cells[(family, split, train, ev)], ref, seed_std)
        rows.append(
            {"family": family, "split": split, "train_variant": train, "eval_variant": ev, **diff}
        )
    return pd.DataFrame(rows, columns=PRICE_COLUMNS)


ROBUST_COLUMNS = [
    "family",
    "split",
    "train_variant",
    "worst_variant",
    "worst_mean",
    "worst_sd",
    "n",
    "runner_up",
    "runner_up_worst",
    "runner_up_mean",
    "diff",
    "se",
    "noise",
    "exceeds",
]


def most_robust(worst_table: pd.DataFrame, frame: pd.DataFrame, seed_std: float = math.nan):
    """Per family and split: the training variant with the highest worst-case mean F1, the
    runner-up and whether the lead exceeds the noise (NaN/None without a runner-up).

    Why the worst case: a model is as robust as its weakest casing variant; a mean over the
    variants would let a strong cased score hide a collapse on lowercased text.
    """
    cells = _cells(frame, "family", "split", "train_variant", "eval_variant")
    groups = worst_table.groupby(["family", "split"], sort=False)
    rows = [_robust_row(group, cells, seed_std) for _, group in groups]
    return pd.DataFrame(rows, columns=ROBUST_COLUMNS)


def _robust_row(group: pd.DataFrame, cells: dict, seed_std: float) -> dict:
    ranked = group.sort_values(["mean", "train_variant"], ascending=[False, True])
    top = ranked.iloc[0]
    row = {
        **dict.fromkeys(ROBUST_COLUMNS, math.nan),
        "family": top.family,
        "split": top.split,
        "train_variant": top.train_variant,
        "worst_variant": top.eval_variant,
        "worst_mean": top["mean"],
        "worst_sd": top.sd,
        "n": top.n,
        "runner_up": None,
        "runner_up_worst": None,
        "exceeds": None,
    }
    if len(ranked) < 2:
        return row
    second = ranked.iloc[1]
    a = cells[(top.family, top.split, top.train_variant, top.eval_variant)]
    b = cells[(top.family, top.split, second.train_variant, second.eval_variant)]
    diff = _difference(a, b, seed_std)
    row.update(
        runner_up=second.train_variant,
        runner_up_worst=second.eval_variant,
        runner_up_mean=second["mean"],
        **{k: diff[k] for k in ("diff", "se", "noise", "exceeds")},
    )
    return row


def type_drops(types: pd.DataFrame, train: str = CASED) -> pd.DataFrame:
    """Per family, split and entity type of the ``train``-trained models: mean F1 on cased and
    on uncased text and the drop (paired per model), largest dev drop first."""
    own = types[types["train_variant"] == train]
    rows = []
    for (family, split, name), group in own.groupby(["family", "split", "type"], sort=False):
        by = {ev: dict(zip(g["algorithm"], g["f1"])) for ev, g in group.groupby("eval_variant")}
        if CASED not in by or UNCASED not in by:
            continue
        support = group.loc[group["eval_variant"] == CASED, "support"]
        diff = [by[CASED][a] - by[UNCASED][a] for a in by[CASED] if a in by[UNCASED]]
        rows.append(
            {
                "family": family,
                "split": split,
                "type": name,
                "support": int(support.iloc[0]),
                "cased": mean_std(list(by[CASED].values()))[0],
                "uncased": mean_std(list(by[UNCASED].values()))[0],
                "drop": mean_std(diff)[0],
                "sd": mean_std(diff)[1],
                "n": len(diff),
            }
        )
    return pd.DataFrame(rows, columns=TYPE_COLUMNS)


def identical_models(evals: Sequence[dict]) -> list[dict]:
    """Algorithms whose best models score identically everywhere (the same model exported).

    Why: with few trials ASHA and PBT often export the same configuration; the spread over
    algorithms then counts one model twice, which the reader must know.
    """
    out = []
    pairs = dict.fromkeys((e["family"], e["train_variant"]) for e in evals)
    for family, train in pairs:
        groups: dict[str, list[str]] = {}
        for e in evals:
            if (e["family"], e["train_variant"]) == (family, train):
                key = repr(_f1_signature(e["scores"]))
                groups.setdefault(key, []).append(e["algorithm"])
        same = [g for g in groups.values() if len(g) > 1]
        if same:
            out.append({"family": family, "train_variant": train, "groups": same})
    return out


def _f1_signature(scores: dict) -> list:
    return [
        (split, v, scores[split][v].get("f1"))
        for split in SPLITS
        for v in sorted(scores.get(split, {}))
    ]


def compute(evals: Sequence[dict], seed_noise: dict | None = None) -> dict:
    """Everything the casing part says, as frames and dicts (see the module docstring)."""
    if not evals:
        raise CasingError("no evaluation files: hpo.families, train_variants or algorithms empty")
    seed_noise = seed_noise or {"std": math.nan, "dof": 0, "runs": 0, "pairs": []}
    seed_std = float(seed_noise["std"])
    frame = scores_frame(evals)
    table = summary(frame)
    worst_table = worst(table)
    return {
        "families": list(dict.fromkeys(e["family"] for e in evals)),
        "train_variants": list(dict.fromkeys(e["train_variant"] for e in evals)),
        "algorithms": list(dict.fromkeys(e["algorithm"] for e in evals)),
        "eval_variants": _ordered(set(frame["eval_variant"])),
        "seed_noise": seed_noise,
        "summary": table,
        "drops": drops(frame, seed_std),
        "worst": worst_table,
        "price": price(frame, seed_std),
        "robust": most_robust(worst_table, frame, seed_std),
        "types": type_drops(types_frame(evals)),
        "identical": identical_models(evals),
    }


def to_json(result: dict) -> dict:
    """The computed numbers as strict JSON (casing.json)."""
    frames = ("summary", "drops", "worst", "price", "robust", "types")
    out = {k: v for k, v in result.items() if k not in frames}
    out.update({k: result[k].to_dict("records") for k in frames})
    return json_ready(out)


# -- markdown ---------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    align = ("left",) * left + ("right",) * (len(headers) - left)
    return tabulate(rows, headers=headers, tablefmt="pipe", disable_numparse=True, colalign=align)


def _pm(mean: float, sd: float, n: int | None = None) -> str:
    if math.isnan(mean):
        return MISSING
    text = f"{mean:.4f}" if math.isnan(sd) else f"{mean:.4f} ± {sd:.4f}"
    return text if n is None else f"{text} (n={n})"


def _mark(exceeds) -> str:
    return {True: " *", False: "", None: " ?"}[exceeds]


def _names(items: Sequence[str], quote: str = "`") -> str:
    quoted = [f"{quote}{i}{quote}" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _verdict(j, short: bool = False) -> str:
    """The noise verdict of one difference, in words (``short``: without the conclusion)."""
    if j["exceeds"] is None:
        return "no spread to judge it against (one model and no re-trainings)"
    if j["exceeds"]:
        return f"larger than the noise ({j['noise']:.4f})"
    text = f"**not** larger than the noise ({j['noise']:.4f})"
    return text if short else text + ": not distinguishable on this evidence"


def markdown(result: dict, figure: str | None = None) -> str:
    """The "Casing robustness" part of the Findings."""
    parts = ["### Casing robustness", _intro(result), _answer(result)]
    parts += [_scores_part(result, split) for split in SPLITS]
    parts += [_drops_part(result), _price_part(result), _types_part(result)]
    parts.append(_literature_part(result))
    if figure:
        parts.append(f"![casing robustness]({figure})")
    return "\n\n".join(p for p in parts if p)


def _intro(result: dict) -> str:
    seed = result["seed_noise"]
    n = len(result["algorithms"])
    text = (
        f"Every best model (one per tag family × training variant × algorithm, {n} "
        f"algorithm(s): {_names(result['algorithms'])}) evaluated on the "
        f"{len(result['eval_variants'])} casing variants of dev and test; mean ± sample sd over "
        "the algorithms' models (n). Verdicts on dev F1; test F1 is reported only. A difference "
        "counts as larger than the noise (marked `*`) when it exceeds the training-seed std and "
        "twice its standard error over the algorithms (whichever is known; `?`: neither is)."
    )
    if math.isnan(seed["std"]):
        text += (
            " No re-trainings (hpo.retrain_seeds = 0), so only the spread over algorithms "
            "judges the differences."
        )
    else:
        text += (
            f" Training-seed noise: pooled std {seed['std']:.4f} ({seed['dof']} degrees of "
            f"freedom) of the comparison's {seed['runs']} re-trainings on "
            f"{', '.join(seed['pairs'])}; they score only their training variant's dev and "
            "test F1, not the other casing variants, so this in-variant dev noise stands in for "
            "the noise on every variant."
        )
    return text + _identical_text(result["identical"])


def _identical_text(identical: Sequence[dict]) -> str:
    """One sentence per group of algorithms that exported the same model, naming where."""
    where: dict[tuple, list[str]] = {}
    for item in identical:
        for group in item["groups"]:
            where.setdefault(tuple(group), []).append(f"{item['family']}/{item['train_variant']}")
    return "".join(
        f" {_names(group)} exported the same model (identical scores) in "
        f"{_names(pairs, quote='')}, so there the spread over algorithms counts one model twice."
        for group, pairs in where.items()
    )


def _answer(result: dict) -> str:
    """The one-paragraph answer: the most robust training variant, its price, the spread."""
    robust, price_table = result["robust"], result["price"]
    sentences = []
    for row in robust[robust["split"] == DECIDE].itertuples():
        sentences.append(_answer_family(row, robust, price_table))
    if not sentences:
        return "No dev scores, so no answer on casing robustness."
    winners = set(robust.loc[robust["split"] == DECIDE, "train_variant"])
    if len(result["families"]) > 1 and len(winners) == 1:
        sentences.append(f"All tag families give the same answer: `{winners.pop()}`.")
    return "**Which training variant is the most casing-robust?** " + " ".join(sentences)


def _answer_family(row, robust: pd.DataFrame, price_table: pd.DataFrame) -> str:
    worst_cell = f"{_pm(row.worst_mean, row.worst_sd, row.n)} on `{row.worst_variant}`"
    if row.runner_up is None:
        return (
            f"`{row.family}`: only `{row.train_variant}` was trained, so there is no other "
            f"training variant to compare; its worst case (dev) is {worst_cell}."
        )
    text = (
        f"`{row.family}`: training on `{row.train_variant}` gives the highest worst-case dev F1, "
        f"{worst_cell}; the next best, `{row.runner_up}`, falls to {row.runner_up_mean:.4f} "
        f"on `{row.runner_up_worst}`: lead {row.diff:.4f}, "
        f"{_verdict({'noise': row.noise, 'exceeds': row.exceeds})}."
    )
    return " ".join([text, _price_sentence(row, price_table), _test_sentence(row, robust)])


def _test_sentence(row, robust: pd.DataFrame) -> str:
    """Whether test F1 (reported only) ranks the same training variant first."""
    test = robust[(robust["family"] == row.family) & (robust["split"] != DECIDE)]
    if test.empty:
        return ""
    top = test.iloc[0]
    same = (
        "the same training variant"
        if top.train_variant == row.train_variant
        else (f"`{top.train_variant}` instead")
    )
    return (
        f"On test (reported only) {same} has the highest worst case, {top.worst_mean:.4f} "
        f"on `{top.worst_variant}`."
    )


def _price_sentence(row, price_table: pd.DataFrame) -> str:
    if row.train_variant == CASED:
        return "The cased-trained models are themselves the most robust, so there is no price."
    own = price_table[
        (price_table["family"] == row.family)
        & (price_table["split"] == DECIDE)
        & (price_table["train_variant"] == row.train_variant)
    ].set_index("eval_variant")
    if CASED not in own.index:
        return "No cased-trained models to price it against."
    cost = own.loc[CASED]
    text = (
        f"Its price on cased text against the cased-trained models: {cost['diff']:+.4f} "
        f"(SE {_num(cost['se'])}), {_verdict(cost)}"
    )
    bought = [
        f"{own.loc[ev, 'diff']:+.4f} on {ev}, {_verdict(own.loc[ev], short=True)}"
        for ev in LOWERED
        if ev in own.index
    ]
    return text + ("; it buys " + "; and ".join(bought) if bought else "") + "."


def _num(value: float) -> str:
    return MISSING if value is None or math.isnan(value) else f"{value:.4f}"


def _scores_part(result: dict, split: str) -> str:
    table = result["summary"]
    table = table[table["split"] == split]
    if table.empty:
        return ""
    variants = result["eval_variants"]
    rows = []
    for (family, train), group in table.groupby(["family", "train_variant"], sort=False):
        cells = {r.eval_variant: _pm(r.mean, r.sd) for r in group.itertuples()}
        n = int(group["n"].max())
        rows.append([family, train, str(n), *[cells.get(v, MISSING) for v in variants]])
    title = "dev" if split == DECIDE else f"{split}, reported only"
    return (
        f"F1 by evaluation variant ({title}), mean ± sd over the algorithms' models:\n\n"
        + _table(["tag family", "trained on", "n", *variants], rows, left=2)
    )


def _drops_part(result: dict) -> str:
    d, w = result["drops"], result["worst"]
    if w.empty:
        return ""
    rows = []
    for r in w.itertuples():
        cells = []
        for target in LOWERED:
            match = d[
                (d["family"] == r.family)
                & (d["split"] == r.split)
                & (d["train_variant"] == r.train_variant)
                & (d["to"] == target)
            ]
            cells.append(
                _pm(match["drop"].iloc[0], match["sd"].iloc[0]) + _mark(match["exceeds"].iloc[0])
                if len(match)
                else MISSING
            )
        worst_cell = f"{r.eval_variant}: {_pm(r.mean, r.sd)}"
        rows.append([r.family, r.train_variant, r.split, str(r.n), *cells, worst_cell])
    headers = ["tag family", "trained on", "split", "n", *[f"drop to {t}" for t in LOWERED]]
    text = (
        "Drop from cased to lowercased evaluation text (F1 on cased minus F1 on the variant, "
        "per model, then mean ± sd) and the worst case (the evaluation variant with the lowest "
        "mean F1):\n\n" + _table([*headers, "worst case"], rows, left=3)
    )
    return text + "\n\n" + _within_noise(d[d["split"] == DECIDE], "drop", "to")


def _within_noise(frame: pd.DataFrame, value: str, target: str) -> str:
    """One sentence naming the dev differences that do not exceed the noise (or none)."""
    if frame.empty:
        return ""
    label = "Drops" if value == "drop" else "Differences"
    weak = frame[~frame["exceeds"].eq(True)]  # None (no spread) counts as not shown
    if weak.empty:
        return f"{label} on dev: every one is larger than the noise."
    names = [
        f"{r.family}/{r.train_variant} to {getattr(r, target)} ({getattr(r, value):+.4f}"
        + (f", noise {r.noise:.4f})" if not math.isnan(r.noise) else ", no spread)")
        for r in weak.itertuples()
    ]
    return f"{label} on dev **not** larger than the noise: " + "; ".join(names) + "."


def _price_part(result: dict) -> str:
    p = result["price"]
    if p.empty:
        return (
            "Price of robustness: not computed, as it needs cased-trained models and at least "
            "one other training variant of the same tag family."
        )
    rows = []
    for (family, train, split), group in p.groupby(
        ["family", "train_variant", "split"], sort=False
    ):
        by = group.set_index("eval_variant")
        cells = [
            f"{by.loc[ev, 'diff']:+.4f} (SE {_num(by.loc[ev, 'se'])})"
            + _mark(by.loc[ev, "exceeds"])
            if ev in by.index
            else MISSING
            for ev in (CASED, *LOWERED)
        ]
        rows.append([family, train, split, str(int(by["n"].max())), *cells])
    headers = ["tag family", "trained on", "split", "n", "on cased (price)"]
    headers += [f"on {ev} (gain)" for ev in LOWERED]
    return (
        "Price of robustness: mean F1 of each training variant minus that of the cased-trained "
        "models (n=" + str(int(p["n_ref"].max())) + "), on the same evaluation text; negative "
        "on cased is what robustness costs, positive on the lowercased variants what it buys. "
        "SE: standard error of the difference over the algorithms' models.\n\n"
        + _table(headers, rows, left=3)
        + "\n\n"
        + _within_noise(p[p["split"] == DECIDE], "diff", "eval_variant")
    )


def _types_part(result: dict) -> str:
    t = result["types"]
    if t.empty:
        return (
            f"Per entity type: no `{CASED}`-trained models evaluated on {CASED} and {UNCASED}, "
            "so no per-type comparison."
        )
    parts = [
        "Per entity type, the cased-trained models on cased and on uncased text (mean over the "
        "models; drop paired per model; support: entities of that type in the split), largest "
        "dev drop first. Types with small support swing by chance."
    ]
    for family, group in t.groupby("family", sort=False):
        parts.append(_types_table(family, group))
    return "\n\n".join(parts)


def _types_table(family: str, group: pd.DataFrame) -> str:
    dev = group[group["split"] == DECIDE].sort_values(["drop", "type"], ascending=[False, True])
    test = group[group["split"] != DECIDE].set_index("type")
    rows = [
        [
            f"`{r.type}`",
            str(r.support),
            f"{r.cased:.4f}",
            f"{r.uncased:.4f}",
            _pm(r.drop, r.sd),
            _num(test["drop"].get(r.type, math.nan)),
        ]
        for r in dev.itertuples()
    ]
    headers = ["type", "dev support", "dev F1 cased", "dev F1 uncased", "dev drop", "test drop"]
    text = f"`{family}` (n={int(dev['n'].max()) if len(dev) else 0}):\n\n" + _table(headers, rows)
    return text + _types_summary(dev)


def _types_summary(dev: pd.DataFrame) -> str:
    """The (up to) three types with the largest dev drop and the one with the smallest."""
    if len(dev) < 2:
        return ""

    def named(r) -> str:
        return f"`{r.type}` (drop {r.drop:.4f}, support {r.support})"

    rows = list(dev.itertuples())
    most = "; ".join(named(r) for r in rows[: min(3, len(rows) - 1)])
    return f"\n\nMost affected: {most}; least: {named(rows[-1])}."


def _literature_part(result: dict) -> str:
    table = result["summary"]
    test = table[table["split"] == "test"]
    headers = ["training", "Mayhew et al. 2019 (English CoNLL-03 test): cased / lowercased"]
    headers += [f"this run, `{f}` (test): cased / uncased" for f in result["families"]]
    rows = [
        [label, f"{_num(cased) if cased else MISSING} / {lower:.4f}"]
        + [_ours(test, family, train) for family in result["families"]]
        for label, cased, lower, train in LITERATURE
    ]
    return (
        "Beside the literature (English): "
        + MAYHEW
        + ". Cells: F1 on cased / on lowercased test text; this run's: the mean over the "
        "algorithms' models trained on the nearest variant (`cased`, `uncased-cased-both`, "
        "`uncased-cased-mix`), where trained.\n\n"
        + _table(headers, rows)
        + "\n\n"
        + "Bodapati et al. add upper- and lowercased copies of the training data (case "
        f"augmentation): {BODAPATI}. Not the same experiment: English, not German; other models "
        "of other sizes than this run's encoder; news text (CoNLL-03), not this run's corpus; so "
        "only the size and direction of the effects compare. German capitalises every noun, so "
        "lowercasing removes more cues than in English; no German study of it is known to us."
    )


def _ours(test: pd.DataFrame, family: str, train: str | None) -> str:
    if train is None:
        return "no counterpart here"
    own = test[(test["family"] == family) & (test["train_variant"] == train)]
    by = dict(zip(own["eval_variant"], own["mean"]))
    if CASED not in by or UNCASED not in by:
        return "not trained"
    return f"{by[CASED]:.4f} / {by[UNCASED]:.4f}"


# -- figure -----------------------------------------------------------------------------------
def write_figure(result: dict, out: str | Path) -> Path:
    """casing.png: F1 by evaluation variant, a line per training variant with a ± sd band over
    the algorithms, one column per tag family, one row per split."""
    plt = pyplot()
    families, variants = result["families"], result["eval_variants"]
    fig, axes = plt.subplots(
        len(SPLITS),
        len(families),
        figsize=(max(6.0, 5.5 * len(families)), 8.0),
        squeeze=False,
        sharey=True,
    )
    try:
        for i, split in enumerate(SPLITS):
            for j, family in enumerate(families):
                _panel(axes[i][j], result, family, split, variants)
        fig.suptitle(
            "Casing robustness: F1 by evaluation variant, one line per training variant\n"
            "(mean over the algorithms' best models, band ± sd)",
            fontsize=10,
        )
        _legend(fig, axes[0][0], len(result["train_variants"]))
        return save_png(fig, Path(out) / "casing.png")
    finally:
        plt.close(fig)


def _legend(fig, ax, count: int) -> None:
    """One legend below the panels, where it hides no line."""
    handles, labels = ax.get_legend_handles_labels()
    ncol = min(count, 4) or 1
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, title="trained on")
    rows = -(-count // ncol)
    fig.tight_layout(rect=(0, 0.03 + 0.025 * rows, 1, 1))


def _panel(ax, result: dict, family: str, split: str, variants: list[str]) -> None:
    table = result["summary"]
    own = table[(table["family"] == family) & (table["split"] == split)]
    trains = result["train_variants"]
    x = np.arange(len(variants), dtype=float)
    for k, train in enumerate(trains):
        rows = own[own["train_variant"] == train].set_index("eval_variant").reindex(variants)
        mean = rows["mean"].to_numpy(dtype=float)
        sd = np.nan_to_num(rows["sd"].to_numpy(dtype=float))
        shift = x + (k - (len(trains) - 1) / 2) * 0.06  # coinciding lines stay apart
        color = f"C{k}"
        n = int(rows["n"].max()) if rows["n"].notna().any() else 0
        ax.plot(
            shift,
            mean,
            marker=MARKERS[k % len(MARKERS)],
            linestyle=LINESTYLES[k % len(LINESTYLES)],
            color=color,
            label=f"{train} (n={n})",
        )
        ax.fill_between(shift, mean - sd, mean + sd, color=color, alpha=0.15, linewidth=0)
    ax.set_xticks(x, variants, rotation=30, ha="right", fontsize=8)
    ax.set_title(f"{family}: {split} F1" + ("" if split == DECIDE else " (reported only)"))
    ax.set_xlabel("evaluation variant")
    if ax.get_subplotspec().is_first_col():
        ax.set_ylabel("F1 (mean ± sd over algorithms)")
    ax.grid(alpha=0.3)
