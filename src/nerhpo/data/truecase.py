"""A small statistical truecaser: restores the casing of lowercased German text.

Trained on cased tokens (the cased training split), it keeps for every lowercased token its
most frequent surface form, counted away from the sentence start (where German capitalises
every word, so the first word says little about its casing); a token only ever seen first in
a sentence takes its most frequent form there. Applied to a lowercased sentence, every known
token takes its form, the first word is capitalised (German, as most orthographies,
capitalises a sentence's first word, unless a number opens it), and an unseen token is, with ``fallback="suffix"``,
capitalised when most training words sharing its longest frequent ending (2 to 4
characters) are capitalised (German nouns: -ung, -heit, -keit, -schaft, ...), else kept
lowercase (``fallback="lower"`` always keeps it lowercase).

Deterministic: ties between surface forms go to the first in sorted order, so the same
training text gives the same truecaser. After Lita et al. (ACL 2003), as a baseline for
lowercased input before a cased model (Mayhew et al., EMNLP 2019).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FALLBACKS = ("suffix", "lower")
SUFFIX_LENGTHS = (4, 3, 2)  # longest first
SUFFIX_MIN_TYPES = 5  # training word types an ending needs before it decides


def first_word(tokens: Sequence[str]) -> int | None:
    """Index of the sentence's first word (its first token beginning with a letter, after
    nothing but punctuation), or None (no word, or the sentence opens with a number)."""
    for i, token in enumerate(tokens):
        if token[:1].isalnum():
            return i if token[:1].isalpha() else None
    return None


def capitalise(token: str) -> str:
    return token[:1].upper() + token[1:]


def most_frequent(counts: Counter) -> str:
    """The most frequent form; a tie goes to the first in sorted order."""
    return min(counts, key=lambda form: (-counts[form], form))


@dataclass
class Truecaser:
    """lowercased token -> surface form, plus the capitalised share of word endings."""

    forms: dict[str, str]
    suffixes: dict[str, bool] = field(default_factory=dict)  # ending -> capitalise unseen words
    fallback: str = "suffix"

    def __post_init__(self):
        if self.fallback not in FALLBACKS:
            raise ValueError(f"unknown truecaser fallback {self.fallback!r}; one of {FALLBACKS}")

    @classmethod
    def train(cls, sentences: Iterable[Sequence[str]], fallback: str = "suffix") -> Truecaser:
        """Learn from cased sentences (each a sequence of tokens)."""
        inner: dict[str, Counter] = {}
        initial: dict[str, Counter] = {}
        for tokens in sentences:
            start = first_word(tokens)
            for i, token in enumerate(tokens):
                table = initial if i == start else inner
                table.setdefault(token.lower(), Counter())[token] += 1
        forms = {low: most_frequent(counts) for low, counts in inner.items()}
        for low, counts in initial.items():
            forms.setdefault(low, most_frequent(counts))
        return cls(dict(sorted(forms.items())), suffix_votes(inner), fallback)

    def unseen(self, token: str) -> str:
        """The form of a token not in training (given lowercased)."""
        if self.fallback == "suffix":
            for n in SUFFIX_LENGTHS:
                if len(token) > n and token[-n:] in self.suffixes:
                    return capitalise(token) if self.suffixes[token[-n:]] else token
        return token

    def form(self, token: str) -> str:
        low = token.lower()
        return self.forms[low] if low in self.forms else self.unseen(low)

    def truecase(self, tokens: Sequence[str]) -> list[str]:
        """The tokens (of one sentence, lowercased or not) in their most likely casing."""
        out = [self.form(t) for t in tokens]
        start = first_word(out)
        if start is not None:
            out[start] = capitalise(out[start])
        return out

    def to_dict(self) -> dict:
        return {"fallback": self.fallback, "forms": self.forms, "suffixes": self.suffixes}

    @classmethod
    def from_dict(cls, data: dict) -> Truecaser:
        return cls(dict(data["forms"]), dict(data.get("suffixes", {})), data["fallback"])


def suffix_votes(inner: dict[str, Counter]) -> dict[str, bool]:
    """Word ending -> whether most training word types with it are capitalised (words seen
    away from the sentence start; only endings of at least SUFFIX_MIN_TYPES types)."""
    votes: dict[str, list[int]] = {}  # ending -> [capitalised types, types]
    for low, counts in inner.items():
        if not low[:1].isalpha():
            continue
        upper = most_frequent(counts)[:1].isupper()
        for n in SUFFIX_LENGTHS:
            if len(low) > n:
                vote = votes.setdefault(low[-n:], [0, 0])
                vote[0] += upper
                vote[1] += 1
    return {
        ending: 2 * up > total
        for ending, (up, total) in sorted(votes.items())
        if total >= SUFFIX_MIN_TYPES
    }


def token_accuracy(
    truecaser: Truecaser, cased: Iterable[Sequence[str]], lowered: Iterable[Sequence[str]]
) -> dict:
    """How often the truecased ``lowered`` sentences give the ``cased`` tokens back.

    ``lowered`` are the same sentences lowercased (checked); counts over all tokens, over
    tokens with a capital letter in the cased text, and over tokens unseen in training.
    """
    tokens = correct = capitals = capitals_correct = unseen = unseen_correct = 0
    sentences = 0
    for i, (gold, low) in enumerate(zip_strict(cased, lowered)):
        if len(gold) != len(low) or any(g.lower() != w for g, w in zip(gold, low)):
            raise ValueError(f"sentence {i + 1}: the lowercased copy is not the cased text")
        sentences += 1
        for g, t, w in zip(gold, truecaser.truecase(low), low):
            hit = g == t
            tokens += 1
            correct += hit
            if g != g.lower():
                capitals += 1
                capitals_correct += hit
            if w not in truecaser.forms:
                unseen += 1
                unseen_correct += hit
    return {
        "sentences": sentences,
        "tokens": tokens,
        "accuracy": _share(correct, tokens),
        "capitalised_tokens": capitals,
        "capitalised_accuracy": _share(capitals_correct, capitals),
        "unseen_tokens": unseen,
        "unseen_accuracy": _share(unseen_correct, unseen),
    }


def zip_strict(a: Iterable, b: Iterable):
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"{len(a)} cased sentences but {len(b)} lowercased ones")
    return zip(a, b)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
