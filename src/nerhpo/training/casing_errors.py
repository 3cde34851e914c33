"""The entities a model finds on cased text but misses on its uncased copy.

An entity is found when a predicted entity has its exact span and type (seqeval's entities in
its default, conlleval-compatible mode, as the scores count them). The two files must hold
the same sentences in the same order with the same tags, the uncased tokens being the cased
ones lowercased; anything else stops with the file and the sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from nerhpo.data.corpus import Sentence

MATCH = "exact span and type (seqeval default-mode entities)"


def check_aligned(
    cased: Sequence[Sentence], uncased: Sequence[Sentence], where: str = "uncased"
) -> None:
    """Raise ValueError unless ``uncased`` is ``cased`` lowercased, sentence by sentence."""
    if len(cased) != len(uncased):
        raise ValueError(f"{where}: {len(uncased)} sentences, the cased copy has {len(cased)}")
    for i, (c, u) in enumerate(zip(cased, uncased)):
        if len(c.tokens) != len(u.tokens) or list(c.tags) != list(u.tags):
            raise ValueError(
                f"{where}: sentence {i + 1} differs from the cased copy in length or tags"
            )
        for j, (a, b) in enumerate(zip(c.tokens, u.tokens)):
            if a.lower() != b:
                raise ValueError(
                    f"{where}: sentence {i + 1}, token {j + 1}: {b!r} is not the cased {a!r} "
                    "lowercased"
                )


def entities(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """(type, first, last word) of every entity in one sentence's tags (seqeval default mode)."""
    from seqeval.metrics.sequence_labeling import get_entities

    return {(t, start, end) for t, start, end in get_entities(list(tags))}


def casing_errors(
    cased: Sequence[Sentence],
    cased_pred: Sequence[Sequence[str]],
    uncased: Sequence[Sentence],
    uncased_pred: Sequence[Sequence[str]],
    where: str = "uncased",
) -> dict:
    """Per entity type: gold entities, found on cased, found on uncased, and missed (found on
    cased, not on uncased); and every missed entity (type, cased surface text) with its count,
    most frequent first (ties by type, then text)."""
    check_aligned(cased, uncased, where)
    if len(cased_pred) != len(cased) or len(uncased_pred) != len(uncased):
        raise ValueError(f"{where}: predictions and sentences differ in number")
    by_type: dict[str, Counter] = {}
    missed: Counter = Counter()
    for sentence, p_cased, p_uncased in zip(cased, cased_pred, uncased_pred):
        gold = entities(sentence.tags)
        found_cased = gold & entities(p_cased)
        found_uncased = gold & entities(p_uncased)
        for kind, group in (
            ("gold", gold),
            ("found_cased", found_cased),
            ("found_uncased", found_uncased),
            ("missed_uncased", found_cased - found_uncased),
        ):
            for t, _, _ in group:
                by_type.setdefault(t, Counter())[kind] += 1
        for t, start, end in found_cased - found_uncased:
            missed[(t, " ".join(sentence.tokens[start : end + 1]))] += 1
    kinds = ("gold", "found_cased", "found_uncased", "missed_uncased")
    return {
        "sentences": len(cased),
        "by_type": {t: {k: int(c[k]) for k in kinds} for t, c in sorted(by_type.items())},
        "missed": [
            {"type": t, "text": text, "count": n}
            for (t, text), n in sorted(missed.items(), key=lambda item: (-item[1], item[0]))
        ],
    }
