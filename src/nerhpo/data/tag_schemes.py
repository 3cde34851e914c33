"""Tag schemes (IOB1, IOB2, IOBES, BILOU) and their conversion to IOB2, the pipeline's one scheme.

Corpora come in several schemes; everything after the reader sees IOB2 only. Each conversion
is a pure function on one sentence's tags; a tag outside the scheme is the caller's to reject.
"""

from __future__ import annotations

from collections.abc import Iterable

SCHEMES = ("iob1", "iob2", "iobes", "bilou")
# The prefix letters each scheme uses (B-, I-, ...), in the order error messages name them.
LETTERS = {"iob1": "BI", "iob2": "BI", "iobes": "BIES", "bilou": "BILU"}
ALL_LETTERS = "BIESLU"
# Single-token entity and last token of an entity, written as B- and I- in IOB2.
_TO_IOB2 = {"iobes": {"S": "B", "E": "I"}, "bilou": {"U": "B", "L": "I"}}
_FROM_IOB2 = {"iobes": ("S", "E"), "bilou": ("U", "L")}


def _continues(tag: str, previous: str) -> bool:
    """Whether ``tag`` has the entity type of ``previous`` (O continues nothing)."""
    return previous != "O" and previous[2:] == tag[2:]


def repair_iob2(tags: list[str]) -> tuple[list[str], int]:
    """Turn I- tags that do not continue an entity of the same type into B- tags.

    This is also exactly the IOB1 -> IOB2 conversion: in IOB1 an I- tag starts an entity
    unless it follows a tag of its type. Returns the tags and how many were changed.
    """
    fixed, repaired, previous = [], 0, "O"
    for tag in tags:
        if tag.startswith("I-") and not _continues(tag, previous):
            tag = "B-" + tag[2:]
            repaired += 1
        fixed.append(tag)
        previous = tag
    return fixed, repaired


def iob1_to_iob2(tags: list[str]) -> tuple[list[str], int]:
    """IOB1 -> IOB2; the count is of I- tags that start an entity (now B-)."""
    return repair_iob2(tags)


def iob2_to_iob2(tags: list[str]) -> tuple[list[str], int]:
    """IOB2 as read, with stray I- tags repaired to B- (counted)."""
    return repair_iob2(tags)


def iobes_to_iob2(tags: list[str]) -> tuple[list[str], int]:
    """IOBES (S- single, E- end) -> IOB2; the count is of I-/E- tags that started an entity."""
    return _letters_to_iob2(tags, _TO_IOB2["iobes"])


def bilou_to_iob2(tags: list[str]) -> tuple[list[str], int]:
    """BILOU (U- unit, L- last) -> IOB2; the count is of I-/L- tags that started an entity."""
    return _letters_to_iob2(tags, _TO_IOB2["bilou"])


def _letters_to_iob2(tags: list[str], mapping: dict[str, str]) -> tuple[list[str], int]:
    return repair_iob2([t if t == "O" else mapping.get(t[0], t[0]) + t[1:] for t in tags])


CONVERT = {
    "iob1": iob1_to_iob2,
    "iob2": iob2_to_iob2,
    "iobes": iobes_to_iob2,
    "bilou": bilou_to_iob2,
}


def to_iob2(tags: list[str], scheme: str) -> tuple[list[str], int]:
    """``tags`` of ``scheme`` in IOB2, and the number of I- tags that became B-."""
    return CONVERT[scheme](tags)


def from_iob2(tags: list[str], scheme: str) -> list[str]:
    """Valid IOB2 ``tags`` written in ``scheme`` (the inverse of :func:`to_iob2`; for tests and
    for writing corpora in other schemes)."""
    if scheme == "iob2":
        return list(tags)
    out = []
    for i, tag in enumerate(tags):
        previous = tags[i - 1] if i else "O"
        following = tags[i + 1] if i + 1 < len(tags) else "O"
        out.append(_tag_from_iob2(tag, previous, following, scheme))
    return out


def _tag_from_iob2(tag: str, previous: str, following: str, scheme: str) -> str:
    if tag == "O":
        return tag
    if scheme == "iob1":  # B- only where an entity follows one of its type
        return tag if tag[0] == "B" and _continues(tag, previous) else "I" + tag[1:]
    single, last = _FROM_IOB2[scheme]
    ends = not (following.startswith("I-") and following[2:] == tag[2:])
    if tag[0] == "B":
        return (single if ends else "B") + tag[1:]
    return (last if ends else "I") + tag[1:]


def detect_scheme(sentences: Iterable[list[str]]) -> str:
    """The scheme of a file's tag lists: iobes for S-/E-, bilou for U-/L- (whichever comes
    first), iob1 when entities start with I- and no B- starts one, iob2 otherwise."""
    i_starts = b_starts = 0
    for tags in sentences:
        previous = "O"
        for tag in tags:
            for scheme, letters in _FROM_IOB2.items():
                if tag[:1] in letters and tag[1:2] == "-":
                    return scheme
            if tag[:2] in ("B-", "I-") and not _continues(tag, previous):
                i_starts += tag[0] == "I"
                b_starts += tag[0] == "B"
            previous = tag
    return "iob1" if i_starts and not b_starts else "iob2"
