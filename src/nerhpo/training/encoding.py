"""What a trial trains on, without torch: its hyperparameters and the tokenised data.

Why a module of its own: the HPO driver process builds trial configurations and the trial
workers encode the data, and the driver need not import torch (about 1.2 s per HPO job).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from nerhpo.data.corpus import Sentence

log = logging.getLogger(__name__)
IGNORE = -100
BATCH_ORDERS = ("sorted", "random")


@dataclass
class TrialConfig:
    """The hyperparameters of one trial (what HPO searches) plus its seed and epoch budget."""

    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    attention_dropout: float = 0.1
    hidden_dropout: float = 0.1
    batch_size: int = 32
    seed: int = 0
    epochs: int = 3
    batch_order: str = "sorted"  # train.batch_order: a setting, not searched

    def __post_init__(self):
        if self.batch_order not in BATCH_ORDERS:
            raise ValueError(f"batch_order {self.batch_order!r}: expected one of {BATCH_ORDERS}")

    @classmethod
    def from_dict(cls, d: dict) -> TrialConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        if "batch_size" in known:
            known["batch_size"] = int(known["batch_size"])
        return cls(**known)


@dataclass
class Encoded:
    """A tokenised split: subword ids, labels on first subwords, and how to map back to words."""

    input_ids: list[list[int]]
    labels: list[list[int]]
    word_counts: list[int]  # words per sentence (before truncation)
    truncated_words: int = 0
    gold: list[list[str]] = field(default_factory=list)
    # per sentence, the word of each labelled subword: a word the tokenizer gives no subword
    # (GermEval has a lone control character, "\x96") must not shift the words after it
    words: list[list[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def tokens(self) -> int:
        return sum(len(x) for x in self.input_ids)

    def word_tags(self, i: int, tags: list[str]) -> list[str]:
        """Sentence ``i``'s tags per word from the tags of its labelled subwords; O elsewhere."""
        if not self.words:
            return tags + ["O"] * (self.word_counts[i] - len(tags))
        out = ["O"] * self.word_counts[i]
        for word, tag in zip(self.words[i], tags):
            out[word] = tag
        return out


def align(word_ids: list[int | None], tags: list[str], label2id: dict[str, int]):
    """Labels per subword (the word's label on its first subword, -100 on the rest and on
    special tokens) and the word of each labelled subword."""
    row, first, previous = [], [], None
    for w in word_ids:
        if w is None or w == previous:
            row.append(IGNORE)
        else:
            if tags[w] not in label2id:
                raise ValueError(f"label {tags[w]!r} is not in the model's label map")
            row.append(label2id[tags[w]])
            first.append(w)
        previous = w
    return row, first


def encode(
    sentences: list[Sentence], tokenizer, label2id: dict[str, int], max_length: int
) -> Encoded:
    """First subword of each word carries the word's label; the rest are ignored (-100)."""
    batch = tokenizer(
        [s.tokens for s in sentences],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
    )
    ids, labels, counts, words, cut, empty = [], [], [], [], 0, 0
    for i, s in enumerate(sentences):
        row, first = align(batch.word_ids(i), s.tags, label2id)
        full = len(batch["input_ids"][i]) >= max_length  # words after the last seen were cut
        after = len(s.tokens) - 1 - (first[-1] if first else -1)
        cut += after if full else 0
        empty += len(s.tokens) - len(first) - (after if full else 0)
        ids.append(batch["input_ids"][i])
        labels.append(row)
        counts.append(len(s.tokens))
        words.append(first)
    if cut:
        log.warning("%d word(s) beyond the model's maximum length were cut off and count as O", cut)
    if empty:
        log.warning(
            "%d word(s) give the tokenizer no subword (e.g. a control character) and count as O",
            empty,
        )
    return Encoded(ids, labels, counts, cut, [list(s.tags) for s in sentences], words)
