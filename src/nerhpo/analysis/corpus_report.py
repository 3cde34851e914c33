"""What the corpus holds, before anything is tuned on it: per split its size, entity types,
sentence lengths in words and in the encoder's subwords, its casing, and the entities of dev
and test that train never shows.

Why: the casing study's numbers mean little without them. A type missing from train cannot be
learnt, sentences cut at ``max_length`` lose their last entities, and a corpus whose entities
are already lowercase has little for the casing variants to remove.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tabulate import tabulate

from nerhpo.analysis.figures import pyplot, save_png
from nerhpo.core.atomic import atomic_directory, atomic_write_text
from nerhpo.core.layout import SPLITS
from nerhpo.data.corpus import Sentence

log = logging.getLogger(__name__)

UNSEEN_EXAMPLES = 10


@dataclass(frozen=True)
class Entity:
    type: str
    text: str


def entities(sentence: Sentence) -> list[Entity]:
    """The entities of an IOB2-tagged sentence (an I- without its B- starts one, as seqeval)."""
    found, words, kind = [], [], None
    for token, tag in zip([*sentence.tokens, ""], [*sentence.tags, "O"]):
        if kind and not (tag.startswith("I-") and tag[2:] == kind):
            found.append(Entity(kind, " ".join(words)))
            words, kind = [], None
        if tag != "O" and kind is None:
            words, kind = [token], tag[2:]
        elif kind:
            words.append(token)
    return found


def _distribution(values: list[int]) -> dict:
    a = np.asarray(values)
    return {
        "mean": round(float(a.mean()), 2),
        "median": float(np.median(a)),
        "p95": round(float(np.percentile(a, 95)), 1),
        "max": int(a.max()),
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def casing(sentences: list[Sentence]) -> dict:
    """Shares of capitalised tokens inside and outside entities, and of entity tokens that are
    already all lowercase (what the ``ne-lower`` and ``uncased`` variants can still change)."""
    inside = outside = cap_in = cap_out = lower_in = 0
    for s in sentences:
        for token, tag in zip(s.tokens, s.tags):
            capital = token[:1].isupper()
            if tag == "O":
                outside += 1
                cap_out += capital
            else:
                inside += 1
                cap_in += capital
                lower_in += token == token.lower() and token != token.upper()
    return {
        "capitalised_in_entities": _share(cap_in, inside),
        "capitalised_outside_entities": _share(cap_out, outside),
        "entity_tokens_lowercase": _share(lower_in, inside),
    }


def subword_lengths(sentences: list[Sentence], tokenizer) -> list[int]:
    """Subword tokens per sentence as the encoder sees it (special tokens included, uncut)."""
    batch = tokenizer([s.tokens for s in sentences], is_split_into_words=True, truncation=False)
    return [len(ids) for ids in batch["input_ids"]]


def split_stats(sentences: list[Sentence], subwords: list[int], max_length: int) -> dict:
    types = Counter(e.type for s in sentences for e in entities(s))
    return {
        "sentences": len(sentences),
        "tokens": sum(len(s.tokens) for s in sentences),
        "entities": dict(sorted(types.items())),
        "words_per_sentence": _distribution([len(s.tokens) for s in sentences]),
        "subwords_per_sentence": _distribution(subwords),
        "cut_at_max_length": _share(sum(n > max_length for n in subwords), len(sentences)),
        "casing": casing(sentences),
    }


def unseen(train: list[Sentence], other: list[Sentence]) -> dict:
    """Entities of ``other`` whose (type, text) train never shows: the share of mentions, and
    the most frequent ones."""
    known = {e for s in train for e in entities(s)}
    mentions = [e for s in other for e in entities(s)]
    new = Counter(e for e in mentions if e not in known)
    return {
        "mentions": len(mentions),
        "unseen_mentions": sum(new.values()),
        "unseen_share": _share(sum(new.values()), len(mentions)),
        "examples": [
            {"type": e.type, "text": e.text, "count": n}
            for e, n in sorted(new.items(), key=lambda kv: (-kv[1], kv[0].type, kv[0].text))[
                :UNSEEN_EXAMPLES
            ]
        ],
    }


def warnings(stats: dict, families: dict[str, dict[str, str]]) -> list[str]:
    """Types that dev or test hold and train lacks; family mappings of types the corpus lacks."""
    train_types = set(stats["train"]["entities"])
    found = []
    for split in ("dev", "test"):
        missing = sorted(set(stats[split]["entities"]) - train_types)
        if missing:
            found.append(
                f"{split} holds entity type(s) that train lacks: {', '.join(missing)} "
                "(a model cannot learn them; they count as misses)"
            )
    corpus_types = {t for split in SPLITS for t in stats[split]["entities"]}
    for family, mapping in families.items():
        absent = sorted(set(mapping) - corpus_types)
        if absent:
            found.append(
                f"tag_families.{family} maps type(s) the corpus lacks: {', '.join(absent)}"
            )
    return found


def corpus_report(
    splits: dict[str, list[Sentence]],
    lengths: dict[str, list[int]],
    max_length: int,
    families: dict,
) -> dict:
    """``lengths``: each split's subword lengths (:func:`subword_lengths`), tokenised once for
    the statistics and the figure."""
    stats = {split: split_stats(splits[split], lengths[split], max_length) for split in SPLITS}
    report = {
        "max_length": max_length,
        "splits": stats,
        "unseen_in_train": {s: unseen(splits["train"], splits[s]) for s in ("dev", "test")},
    }
    report["warnings"] = warnings(stats, families)
    return report


# -- render -----------------------------------------------------------------------------------
def markdown(report: dict) -> str:
    """The README's corpus section: one table of the splits, the entity types, the warnings."""
    stats, unseen_ = report["splits"], report["unseen_in_train"]
    rows = []
    for split in SPLITS:
        s = stats[split]
        words, subwords, case = s["words_per_sentence"], s["subwords_per_sentence"], s["casing"]
        new = unseen_[split]["unseen_share"] if split in unseen_ else None
        rows.append(
            [
                split,
                str(s["sentences"]),
                str(s["tokens"]),
                str(sum(s["entities"].values())),
                f"{words['median']:g} / {words['max']}",
                f"{subwords['median']:g} / {subwords['p95']:g} / {subwords['max']}",
                f"{s['cut_at_max_length']:.2%}",
                f"{case['capitalised_in_entities']:.1%} / {case['capitalised_outside_entities']:.1%}",
                f"{case['entity_tokens_lowercase']:.1%}",
                "–" if new is None else f"{new:.1%}",
            ]
        )
    headers = [
        "split",
        "sentences",
        "tokens",
        "entities",
        "words (median / max)",
        "subwords (median / p95 / max)",
        f"cut at {report['max_length']}",
        "capitalised (in / outside entities)",
        "entity tokens lowercase",
        "entity mentions unseen in train",
    ]
    table = tabulate(
        rows,
        headers=headers,
        tablefmt="pipe",
        disable_numparse=True,
        colalign=["left"] + ["right"] * (len(headers) - 1),
    )
    types = sorted({t for split in SPLITS for t in stats[split]["entities"]})
    type_rows = [[t, *(str(stats[s]["entities"].get(t, 0)) for s in SPLITS)] for t in types]
    type_table = tabulate(
        type_rows,
        headers=["type", *SPLITS],
        tablefmt="pipe",
        disable_numparse=True,
        colalign=["left"] + ["right"] * len(SPLITS),
    )
    parts = [table, "", "Entities per type:", "", type_table]
    if report["warnings"]:
        parts += ["", *(f"* **Warning:** {w}" for w in report["warnings"])]
    return "\n".join(parts) + "\n"


def lengths_figure(lengths: dict[str, list[int]], max_length: int, out: Path):
    """Sentence lengths in subwords per split, with the cut at ``max_length`` drawn in."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    top = max(max(v) for v in lengths.values())
    bins = np.linspace(0, max(top, max_length) + 1, 40)
    for split, style in zip(SPLITS, ("-", "--", ":")):
        ax.hist(
            lengths[split],
            bins=bins,
            weights=np.full(len(lengths[split]), 1 / len(lengths[split])),
            histtype="step",
            linestyle=style,
            label=split,
            linewidth=1.6,
        )
    ax.axvline(max_length, color="black", linewidth=1)
    ax.text(max_length, ax.get_ylim()[1] * 0.95, f"max_length {max_length} ", va="top", ha="right")
    ax.set(
        xlabel="subword tokens per sentence",
        ylabel="share of the split's sentences",
        title="Sentence lengths as the encoder sees them",
    )
    ax.legend()
    fig.tight_layout()
    path = save_png(fig, Path(out))
    plt.close(fig)
    return path


def write_corpus_report(
    splits: dict[str, list[Sentence]], tokenizer, max_length: int, families: dict, out_dir
) -> dict:
    """corpus.json, corpus.md and lengths.png, all or none (a folder swapped in at the end)."""
    lengths = {split: subword_lengths(splits[split], tokenizer) for split in SPLITS}
    report = corpus_report(splits, lengths, max_length, families)
    with atomic_directory(out_dir) as tmp:
        atomic_write_text(
            tmp / "corpus.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        )
        atomic_write_text(tmp / "corpus.md", markdown(report))
        lengths_figure(lengths, max_length, tmp / "lengths.png")
    for line in report["warnings"]:
        log.warning("%s", line)
    return report
