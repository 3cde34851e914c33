"""Read and write NER corpora in GermEval 2014 TSV and CoNLL format.

Every reader error names the file, the line and the problem, so a user can fix a
broken corpus without a debugger. Writers are atomic (see :mod:`nerhpo.core.atomic`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from nerhpo.core.atomic import atomic_write_text
from nerhpo.core.errors import NerhpoError

log = logging.getLogger(__name__)

TAG_RE = re.compile(r"^(?:O|[BI]-[A-Za-z][A-Za-z0-9_.]*)$")
FORMATS = ("germeval", "conll")


class CorpusError(NerhpoError, ValueError):
    """A corpus file that cannot be read; the message names file, line and problem."""

    def __init__(self, path: str | Path, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {problem}")


@dataclass
class Sentence:
    """One sentence: tokens with their outer tags, optional nested tags and a comment."""

    tokens: list[str]
    tags: list[str]
    nested: list[str] | None = None
    comment: str | None = None
    extra: list[list[str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError("tokens and tags differ in length")


@dataclass
class ReadStats:
    """What a reader saw, for logging and tests."""

    sentences: int = 0
    tokens: int = 0
    repaired_i_tags: int = 0


def entity_type(tag: str) -> str | None:
    """The entity type of an IOB2 tag (``B-LOCderiv`` -> ``LOCderiv``), None for O."""
    return None if tag == "O" else tag[2:]


def repair_iob2(tags: list[str]) -> tuple[list[str], int]:
    """Turn I- tags that do not continue an entity of the same type into B- tags."""
    fixed, repaired, previous = [], 0, "O"
    for tag in tags:
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            tag = "B-" + tag[2:]
            repaired += 1
        fixed.append(tag)
        previous = tag
    return fixed, repaired


def _decode(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(path, None, "file not found") from None
    except IsADirectoryError:
        raise CorpusError(path, None, "is a directory, not a corpus file") from None
    except PermissionError:
        raise CorpusError(path, None, "permission denied") from None
    except OSError as err:
        raise CorpusError(path, None, f"cannot read: {err.strerror or err}") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise CorpusError(path, line, f"not valid UTF-8 (byte 0x{raw[err.start]:02x})") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CorpusError(path, line, "contains a NUL byte (binary file?)")
    if not text.strip():
        raise CorpusError(path, None, "empty file: no sentences")
    # splitlines would also split on \x0b, \x1c and friends; only \n and \r\n end lines here.
    return text.replace("\r\n", "\n").split("\n")


def _show(value: str, limit: int = 60) -> str:
    """``repr(value)``, cut short so that one bad field cannot flood the error line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[0]} ({len(value)} chars)"


def _check_tag(path: Path, lineno: int, tag: str, column: str) -> None:
    if not TAG_RE.match(tag):
        raise CorpusError(
            path, lineno, f"malformed {column} tag {_show(tag)} (expected O, B-TYPE or I-TYPE)"
        )


def read_corpus(path: str | Path, fmt: str = "germeval", repair: bool = True) -> list[Sentence]:
    """Read a corpus file; ``fmt`` is ``germeval`` (4 columns) or ``conll`` (token first, tag last)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown corpus format {fmt!r}; expected one of {FORMATS}")
    sentences, stats = read_corpus_with_stats(path, fmt, repair)
    return sentences


def read_corpus_with_stats(
    path: str | Path, fmt: str = "germeval", repair: bool = True
) -> tuple[list[Sentence], ReadStats]:
    """Like :func:`read_corpus`, also returning counts (sentences, tokens, repaired tags)."""
    path = Path(path)
    lines = _decode(path)
    sentences: list[Sentence] = []
    stats = ReadStats()
    tokens: list[str] = []
    tags: list[str] = []
    nested: list[str] = []
    comment: str | None = None
    start_line = 0

    def flush() -> None:
        nonlocal tokens, tags, nested, comment
        if tokens:
            fixed, n = repair_iob2(tags) if repair else (tags, 0)
            stats.repaired_i_tags += n
            if fmt == "germeval":
                fixed_nested, m = repair_iob2(nested) if repair else (nested, 0)
                stats.repaired_i_tags += m
            else:
                fixed_nested = None
            sentences.append(Sentence(tokens, fixed, fixed_nested, comment))
            stats.tokens += len(tokens)
        elif comment is not None and fmt == "germeval":
            raise CorpusError(path, start_line, "sentence header without tokens")
        tokens, tags, nested, comment = [], [], [], None

    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            flush()
            continue
        if fmt == "germeval" and line.startswith("#"):
            if tokens:
                raise CorpusError(
                    path, lineno, "comment line inside a sentence (missing blank line?)"
                )
            comment = line[1:].lstrip("\t")
            start_line = lineno
            continue
        if fmt == "conll" and line.split()[0] == "-DOCSTART-":
            flush()
            continue
        if len(line) > 100_000:
            raise CorpusError(path, lineno, f"line is {len(line)} characters long (limit 100000)")
        if fmt == "germeval":
            cols = line.split("\t")
            if len(cols) != 4:
                raise CorpusError(
                    path,
                    lineno,
                    f"expected 4 tab-separated columns (position, token, outer tag, nested tag), "
                    f"found {len(cols)}",
                )
            position, token, outer, inner = cols
            # ASCII digits compared as text: int() fails on "²" and on 5000-digit numbers
            expected = str(len(tokens) + 1)
            if not (position.isascii() and position.isdigit()) or position.lstrip("0") != expected:
                raise CorpusError(
                    path,
                    lineno,
                    f"position {_show(position)} should be {expected} (1-based, in order)",
                )
            _check_tag(path, lineno, inner, "nested")
        else:
            cols = line.split("\t") if "\t" in line else line.split(" ")
            if len(cols) < 2:
                raise CorpusError(
                    path, lineno, f"expected at least 2 columns (token ... tag), found {len(cols)}"
                )
            token, outer, inner = cols[0], cols[-1], "O"
        if not token or token != token.strip() or any(c.isspace() for c in token):
            raise CorpusError(path, lineno, f"empty token or token with whitespace: {_show(token)}")
        _check_tag(path, lineno, outer, "outer")
        tokens.append(token)
        tags.append(outer)
        nested.append(inner)
    flush()
    if not sentences:
        raise CorpusError(path, None, "no sentences found")
    stats.sentences = len(sentences)
    if stats.repaired_i_tags:
        log.warning(
            "%s: repaired %d I- tag(s) that did not continue an entity of the same type to B-",
            path,
            stats.repaired_i_tags,
        )
    return sentences, stats


def format_corpus(sentences: list[Sentence], fmt: str = "germeval") -> str:
    """Serialise sentences (blank line between sentences); the inverse of :func:`read_corpus`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown corpus format {fmt!r}")
    blocks: list[str] = []
    for s in sentences:
        lines = []
        if fmt == "germeval":
            if s.comment is not None:
                lines.append(f"#\t{s.comment}")
            nested = s.nested or ["O"] * len(s.tokens)
            lines.extend(
                f"{i}\t{tok}\t{tag}\t{inner}"
                for i, (tok, tag, inner) in enumerate(zip(s.tokens, s.tags, nested), start=1)
            )
        else:
            lines.extend(f"{tok}\t{tag}" for tok, tag in zip(s.tokens, s.tags))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def write_corpus(path: str | Path, sentences: list[Sentence], fmt: str = "germeval") -> None:
    """Write sentences atomically: readers never see a half-written file."""
    atomic_write_text(path, format_corpus(sentences, fmt))


def entity_types(sentences: list[Sentence]) -> set[str]:
    """The entity types in the outer column."""
    return {t[2:] for s in sentences for t in s.tags if t != "O"}
