"""Token clean-up on read: invisible characters and a language prefix on every token.

Soft hyphens and zero-width characters (Unicode category Cf) are invisible in an editor but
split words differently for a tokenizer; multilingual collections mark each token with its
language (``de:Berlin``). Both are found (and counted) here, as pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

INVISIBLE_CHOICES = ("remove", "keep")
PREFIX_RE = re.compile(r"^[a-z]{2,3}:")  # what auto detection takes for a language prefix


def is_invisible(char: str) -> bool:
    """Soft hyphen, zero-width space/joiner/non-joiner, word joiner, BOM, bidi marks, ..."""
    return unicodedata.category(char) == "Cf"


def invisible_chars(token: str) -> list[str]:
    """The invisible characters in ``token``, in order."""
    return [c for c in token if is_invisible(c)]


def remove_invisible(token: str) -> str:
    return "".join(c for c in token if not is_invisible(c))


def char_name(char: str) -> str:
    """``U+00AD SOFT HYPHEN``: how a report names a character."""
    return f"U+{ord(char):04X} {unicodedata.name(char, '')}".rstrip()


def detect_prefix(tokens: Iterable[str]) -> str:
    """The ``xx:`` prefix (2-3 lowercase letters and a colon) that every token carries, or ""
    when some token has none or another one (a colon inside some tokens is no prefix)."""
    found = None
    for token in tokens:
        match = PREFIX_RE.match(token)
        if not match or (found is not None and match.group() != found):
            return ""
        found = match.group()
    return found or ""
