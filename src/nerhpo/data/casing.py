"""The casing variants of a corpus, built by rules; tags never change.

The seed's seven (params variants.names by default):

cased               as is
uncased             every token lowercased
uncased-cased-mix   each sentence independently uncased with probability p, else cased
uncased-cased-both  every sentence twice: cased, then uncased
ne-lower            only tokens inside entities lowercased
ne-lower-cased-mix  as uncased-cased-mix with ne-lower in place of uncased
ne-lower-cased-both as uncased-cased-both with ne-lower in place of uncased

Optional, outside the default lists:

upper               every token uppercased (all capitals, as in headlines)
cased-lower-upper   every sentence three times: cased, lowercased, uppercased (case
                    augmentation, after Bodapati et al., W-NUT 2019); dev and test too, as
                    for the *-both variants

The mix variants draw from a generator seeded by (seed, variant, split), so the same
params give byte-identical files and the splits do not share a random stream.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable

from nerhpo.data.corpus import Sentence

VARIANTS = (
    "cased",
    "uncased",
    "uncased-cased-mix",
    "uncased-cased-both",
    "ne-lower",
    "ne-lower-cased-mix",
    "ne-lower-cased-both",
    "upper",
    "cased-lower-upper",
)


def lowercase_all(s: Sentence) -> Sentence:
    return Sentence([t.lower() for t in s.tokens], list(s.tags), s.nested, s.comment)


def uppercase_all(s: Sentence) -> Sentence:
    return Sentence([t.upper() for t in s.tokens], list(s.tags), s.nested, s.comment)


def lowercase_entities(s: Sentence) -> Sentence:
    tokens = [t.lower() if tag != "O" else t for t, tag in zip(s.tokens, s.tags)]
    return Sentence(tokens, list(s.tags), s.nested, s.comment)


def variant_seed(seed: int, variant: str, split: str) -> int:
    """A stable per-(variant, split) seed (zlib.crc32, not Python's salted hash)."""
    return zlib.crc32(f"{seed}:{variant}:{split}".encode())


def make_variant(
    sentences: list[Sentence], variant: str, seed: int, split: str, mix_probability: float = 0.5
) -> list[Sentence]:
    """Return the ``variant`` of ``sentences``; the input is not modified."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown casing variant {variant!r}; expected one of {VARIANTS}")
    lower: Callable[[Sentence], Sentence] = (
        lowercase_entities if variant.startswith("ne-lower") else lowercase_all
    )
    if variant == "cased":
        return [keep_case(s) for s in sentences]
    if variant == "upper":
        return [uppercase_all(s) for s in sentences]
    if variant == "cased-lower-upper":
        return [c for s in sentences for c in (keep_case(s), lowercase_all(s), uppercase_all(s))]
    if variant.endswith("-mix"):
        rng = random.Random(variant_seed(seed, variant, split))
        return [lower(s) if rng.random() < mix_probability else keep_case(s) for s in sentences]
    if variant.endswith("-both"):
        return [copy for s in sentences for copy in (keep_case(s), lower(s))]
    return [lower(s) for s in sentences]


def keep_case(s: Sentence) -> Sentence:
    return Sentence(list(s.tokens), list(s.tags), s.nested, s.comment)
