"""Read and write NER corpora in GermEval 2014 TSV and CoNLL format.

Every reader error names the file, the line and the problem, so a user can fix a
broken corpus without a debugger. Users' files come in several forms (format, tag scheme,
invisible characters, a language prefix on every token); the reader's options turn them into
the one form the pipeline writes and reads (GermEval TSV, IOB2), which its defaults read as is.
Writers are atomic (see :mod:`nerhpo.core.atomic`).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nerhpo.core.atomic import atomic_write_text
from nerhpo.core.errors import NerhpoError
from nerhpo.data.tag_schemes import (
    ALL_LETTERS,
    LETTERS,
    SCHEMES,
    detect_scheme,
    repair_iob2,
    to_iob2,
)
from nerhpo.data.tokens import (
    INVISIBLE_CHOICES,
    char_name,
    detect_prefix,
    invisible_chars,
    remove_invisible,
)

__all__ = [
    "FORMATS",
    "READ_FORMATS",
    "TAG_RE",
    "TAG_SCHEMES",
    "CorpusError",
    "ReadStats",
    "Sentence",
    "describe_read",
    "detect_format",
    "entity_type",
    "entity_types",
    "format_corpus",
    "read_corpus",
    "read_corpus_with_stats",
    "repair_iob2",
    "valid_tag",
    "write_corpus",
]

log = logging.getLogger(__name__)

# An IOB2 tag as the reader returns it; its type is any printable text without whitespace
# (valid_tag), so B-creative-work and B-LOCderiv are both fine.
TAG_RE = re.compile(r"^(?:O|[BI]-\S+)$")
FORMATS = ("germeval", "conll")
READ_FORMATS = ("auto", *FORMATS)
TAG_SCHEMES = ("auto", *SCHEMES)
MAX_LINE = 100_000


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
    """What a reader saw and did, for logging and tests."""

    sentences: int = 0
    tokens: int = 0
    repaired_i_tags: int = 0
    format: str = "germeval"
    tag_scheme: str = "iob2"
    token_prefix: str = ""  # the prefix removed from every token ("" for none)
    auto: list[str] = field(default_factory=list)  # the options detected from the file
    invisible: Counter = field(default_factory=Counter)  # invisible character -> count
    invisible_tokens: int = 0
    first_invisible: int | None = None
    trailing_columns: int = 0  # lines whose empty trailing columns were ignored
    first_trailing: int | None = None
    documents: list[int] = field(default_factory=list)  # first sentence of each -DOCSTART-


@dataclass
class _Rows:
    """One sentence as read, before tag conversion and token clean-up (lines for errors)."""

    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    comment: str | None = None
    start: int = 0


def entity_type(tag: str) -> str | None:
    """The entity type of an IOB2 tag (``B-LOCderiv`` -> ``LOCderiv``), None for O."""
    return None if tag == "O" else tag[2:]


def valid_tag(tag: str, letters: str = "BI") -> bool:
    """O, or one of ``letters``, a hyphen and a type: printable text without whitespace."""
    if tag == "O":
        return True
    kind = tag[2:]
    return (
        len(tag) > 2
        and tag[0] in letters
        and tag[1] == "-"
        and kind.isprintable()
        and not any(c.isspace() for c in kind)
    )


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


def _expected(letters: str) -> str:
    names = [f"{c}-TYPE" for c in letters]
    return "O, " + ", ".join(names[:-1]) + " or " + names[-1]


def _check_tag(path: Path, lineno: int, tag: str, column: str, letters: str) -> None:
    if not valid_tag(tag, letters):
        raise CorpusError(
            path, lineno, f"malformed {column} tag {_show(tag)} (expected {_expected(letters)})"
        )


def _position(text: str) -> str:
    """A position column as the number it names, "" if it is none (ASCII digits only)."""
    return text.lstrip("0") if text.isascii() and text.isdigit() else ""


def detect_format(lines: list[str]) -> str:
    """germeval when the first token line (after ``#`` headers) has 3+ tab-separated columns
    and position 1 in the first; conll otherwise. Three suffice so that a GermEval file short
    of a column there is rejected as GermEval, not misread as CoNLL with positions as tokens."""
    for line in lines:
        if line.strip() and not line.startswith("#"):
            cols = line.split("\t")
            return "germeval" if len(cols) >= 3 and _position(cols[0]) == "1" else "conll"
    return "germeval"


def _check_options(fmt: str, tag_scheme: str, invisible: str | None, token_prefix: str) -> None:
    if fmt not in READ_FORMATS:
        raise ValueError(f"unknown corpus format {fmt!r}; expected one of {READ_FORMATS}")
    if tag_scheme not in TAG_SCHEMES:
        raise ValueError(f"unknown tag scheme {tag_scheme!r}; expected one of {TAG_SCHEMES}")
    if invisible is not None and invisible not in INVISIBLE_CHOICES:
        raise ValueError(f"unknown invisible {invisible!r}; expected one of {INVISIBLE_CHOICES}")
    if not token_prefix or any(c.isspace() for c in token_prefix):
        raise ValueError(f"token_prefix {token_prefix!r}: expected auto, none or a prefix")


def read_corpus(
    path: str | Path, fmt: str = "germeval", repair: bool = True, **options
) -> list[Sentence]:
    """Read a corpus file; ``fmt`` is ``germeval`` (4 columns), ``conll`` (token first, tag
    last) or ``auto``; ``options`` as for :func:`read_corpus_with_stats`."""
    return read_corpus_with_stats(path, fmt, repair, **options)[0]


def read_corpus_with_stats(
    path: str | Path,
    fmt: str = "germeval",
    repair: bool = True,
    *,
    tag_scheme: str = "iob2",
    invisible: str | None = None,
    token_prefix: str = "none",
) -> tuple[list[Sentence], ReadStats]:
    """Like :func:`read_corpus`, also returning what was seen (:class:`ReadStats`).

    ``tag_scheme``: ``auto`` or one of :data:`SCHEMES`, converted to IOB2 (``repair=False``
    keeps IOB2 tags as read); ``invisible``: ``remove`` or ``keep`` (and report) invisible
    characters in tokens, None to leave them unexamined; ``token_prefix``: ``auto``, ``none``
    or the prefix every token carries, removed. The defaults read the pipeline's own files.
    """
    _check_options(fmt, tag_scheme, invisible, token_prefix)
    path = Path(path)
    lines = _decode(path)
    stats = ReadStats(format=fmt, tag_scheme=tag_scheme)
    stats.auto = [k for k, v in (("format", fmt), ("tag_scheme", tag_scheme)) if v == "auto"]
    stats.auto += ["token_prefix"] if token_prefix == "auto" else []
    if fmt == "auto":
        stats.format = detect_format(lines)
    letters = ALL_LETTERS if tag_scheme == "auto" else LETTERS[tag_scheme]
    rows = _parse(path, lines, stats.format, letters, stats)
    if not rows:
        raise CorpusError(path, None, "no sentences found")
    if tag_scheme == "auto":
        _detect_scheme(path, rows, stats)
    if invisible is not None:
        _clean_tokens(path, rows, invisible, stats)
    if token_prefix != "none":
        _strip_prefix(path, rows, token_prefix, stats)
    sentences = _sentences(rows, stats, repair)
    _log(path, stats, invisible)
    return sentences, stats


def _parse(path: Path, lines: list[str], fmt: str, letters: str, stats: ReadStats) -> list[_Rows]:
    """The file's sentences as rows (token, tag, nested tag), every line checked."""
    done: list[_Rows] = []
    rows = _Rows()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            rows = _close(path, rows, done, fmt)
        elif fmt == "germeval" and line.startswith("#"):
            if rows.tokens:
                raise CorpusError(
                    path, lineno, "comment line inside a sentence (missing blank line?)"
                )
            rows.comment, rows.start = line[1:].lstrip("\t"), lineno
        elif fmt == "conll" and line.split()[0] == "-DOCSTART-":
            rows = _close(path, rows, done, fmt)
            if not stats.documents or stats.documents[-1] != len(done):
                stats.documents.append(len(done))
        else:
            _add_row(path, lineno, line, fmt, letters, rows, stats)
    _close(path, rows, done, fmt)
    return done


def _close(path: Path, rows: _Rows, done: list[_Rows], fmt: str) -> _Rows:
    """End a sentence (blank line, -DOCSTART- or end of file); returns a fresh one."""
    if rows.tokens:
        done.append(rows)
    elif rows.comment is not None and fmt == "germeval":
        raise CorpusError(path, rows.start, "sentence header without tokens")
    return _Rows()


def _add_row(
    path: Path, lineno: int, line: str, fmt: str, letters: str, rows: _Rows, stats: ReadStats
) -> None:
    if len(line) > MAX_LINE:
        raise CorpusError(path, lineno, f"line is {len(line)} characters long (limit {MAX_LINE})")
    if fmt == "germeval":
        token, outer, inner = _germeval_row(path, lineno, line, len(rows.tokens) + 1, stats)
        _check_tag(path, lineno, inner, "nested", letters)
    else:
        token, outer, inner = _conll_row(path, lineno, line, stats)
    if not token or token != token.strip() or any(c.isspace() for c in token):
        raise CorpusError(path, lineno, f"empty token or token with whitespace: {_show(token)}")
    _check_tag(path, lineno, outer, "outer", letters)
    rows.tokens.append(token)
    rows.tags.append(outer)
    rows.nested.append(inner)
    rows.lines.append(lineno)


def _drop_empty_tail(cols: list[str], keep: int, lineno: int, stats: ReadStats) -> list[str]:
    """``cols`` without empty columns after the first ``keep`` (a trailing tab), counted."""
    if len(cols) > keep and cols[-1] == "":
        while len(cols) > keep and cols[-1] == "":
            cols.pop()
        stats.trailing_columns += 1
        stats.first_trailing = stats.first_trailing or lineno
    return cols


def _germeval_row(
    path: Path, lineno: int, line: str, expected: int, stats: ReadStats
) -> tuple[str, str, str]:
    cols = _drop_empty_tail(line.split("\t"), 4, lineno, stats)
    if len(cols) != 4:
        raise CorpusError(
            path,
            lineno,
            f"expected 4 tab-separated columns (position, token, outer tag, nested tag), "
            f"found {len(cols)}",
        )
    position, token, outer, inner = cols
    # ASCII digits compared as text: int() fails on "²" and on 5000-digit numbers
    if _position(position) != str(expected):
        raise CorpusError(
            path, lineno, f"position {_show(position)} should be {expected} (1-based, in order)"
        )
    return token, outer, inner


def _conll_row(path: Path, lineno: int, line: str, stats: ReadStats) -> tuple[str, str, str]:
    """Token first, tag last; tab-separated, else separated by runs of spaces."""
    cols = line.split("\t") if "\t" in line else [c for c in line.split(" ") if c]
    cols = _drop_empty_tail(cols, 2, lineno, stats)
    if len(cols) < 2:
        raise CorpusError(
            path, lineno, f"expected at least 2 columns (token ... tag), found {len(cols)}"
        )
    return cols[0], cols[-1], "O"


def _detect_scheme(path: Path, rows: list[_Rows], stats: ReadStats) -> None:
    """Set the file's tag scheme from its tags; a tag of another scheme is an error."""
    scheme = detect_scheme(tags for r in rows for tags in (r.tags, r.nested))
    stats.tag_scheme, letters = scheme, LETTERS[scheme]
    for r in rows:
        for lineno, outer, inner in zip(r.lines, r.tags, r.nested):
            for column, tag in (("outer", outer), ("nested", inner)):
                if not valid_tag(tag, letters):
                    raise CorpusError(
                        path,
                        lineno,
                        f"{column} tag {_show(tag)} is not of tag scheme {scheme}, detected from "
                        f"the file's other tags (set corpus.tag_scheme)",
                    )


def _clean_tokens(path: Path, rows: list[_Rows], invisible: str, stats: ReadStats) -> None:
    """Count the invisible characters in tokens; remove them unless ``invisible`` is keep."""
    for r in rows:
        for i, (token, lineno) in enumerate(zip(r.tokens, r.lines)):
            if token.isprintable():  # a Cf character is never printable: the fast path
                continue
            found = invisible_chars(token)
            if not found:
                continue
            stats.invisible.update(found)
            stats.invisible_tokens += 1
            stats.first_invisible = stats.first_invisible or lineno
            if invisible == "remove":
                r.tokens[i] = remove_invisible(token)
                if not r.tokens[i]:
                    raise CorpusError(
                        path,
                        lineno,
                        f"token {_show(token)} is empty once its invisible characters are "
                        "removed (corpus.invisible: remove)",
                    )


def _strip_prefix(path: Path, rows: list[_Rows], token_prefix: str, stats: ReadStats) -> None:
    """Remove the prefix every token carries (``auto``: only if every token has one)."""
    prefix = token_prefix
    if prefix == "auto":
        prefix = detect_prefix(t for r in rows for t in r.tokens)
        if not prefix:
            return
    stats.token_prefix = prefix
    for r in rows:
        for i, (token, lineno) in enumerate(zip(r.tokens, r.lines)):
            if not token.startswith(prefix):
                raise CorpusError(
                    path,
                    lineno,
                    f"token {_show(token)} lacks the prefix {_show(prefix, 30)} of "
                    "corpus.token_prefix (every token must carry it)",
                )
            r.tokens[i] = token[len(prefix) :]
            if not r.tokens[i]:
                raise CorpusError(
                    path, lineno, f"token {_show(token)} is empty once its prefix is removed"
                )


def _sentences(rows: list[_Rows], stats: ReadStats, repair: bool) -> list[Sentence]:
    """The rows as sentences with IOB2 tags (converted from the file's scheme, counted)."""
    sentences = []
    for r in rows:
        tags, n = _iob2(r.tags, stats.tag_scheme, repair)
        nested = None
        if stats.format == "germeval":
            nested, m = _iob2(r.nested, stats.tag_scheme, repair)
            n += m
        stats.repaired_i_tags += n
        stats.tokens += len(r.tokens)
        sentences.append(Sentence(r.tokens, tags, nested, r.comment))
    stats.sentences = len(sentences)
    return sentences


def _iob2(tags: list[str], scheme: str, repair: bool) -> tuple[list[str], int]:
    return (tags, 0) if scheme == "iob2" and not repair else to_iob2(tags, scheme)


def _log(path: Path, stats: ReadStats, invisible: str | None) -> None:
    if stats.repaired_i_tags and stats.tag_scheme == "iob1":
        log.info(
            "%s: IOB1 to IOB2: %d I- tag(s) that start an entity became B-",
            path,
            stats.repaired_i_tags,
        )
    elif stats.repaired_i_tags:
        log.warning(
            "%s: repaired %d I- tag(s) that did not continue an entity of the same type to B-",
            path,
            stats.repaired_i_tags,
        )
    if stats.invisible:
        names = ", ".join(f"{char_name(c)} x{n}" for c, n in stats.invisible.most_common())
        log.warning(
            "%s: %d invisible character(s) in %d token(s) (%s), first at %s:%d; %s",
            path,
            sum(stats.invisible.values()),
            stats.invisible_tokens,
            names,
            path,
            stats.first_invisible,
            "removed" if invisible == "remove" else "kept",
        )
    if stats.trailing_columns:
        log.info(
            "%s: ignored empty trailing columns on %d line(s), first at %s:%d",
            path,
            stats.trailing_columns,
            path,
            stats.first_trailing,
        )


def describe_read(stats: ReadStats) -> str:
    """One line of what a read found: counts, format, tag scheme, prefix, invisible characters."""

    def how(option: str) -> str:
        return " (detected)" if option in stats.auto else ""

    prefix = "no token prefix"
    if stats.token_prefix:
        prefix = f"token prefix {stats.token_prefix!r}{how('token_prefix')} removed"
    return (
        f"{stats.sentences} sentences, {stats.tokens} tokens; format {stats.format}"
        f"{how('format')}, tag scheme {stats.tag_scheme}{how('tag_scheme')}, {prefix}, "
        f"{sum(stats.invisible.values())} invisible character(s)"
    )


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
