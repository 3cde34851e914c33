"""Fuzz the data stage with broken inputs: 200 corrupted corpus files, 100 users' files in other
forms, 80 broken params files.

Requirement: every corrupted corpus file is either read correctly or rejected with a one-line
error naming file, line and problem; never a traceback, never a partial output file. Every
broken params.yaml is rejected with a ParamsError that names the broken key (or, for YAML
that cannot be parsed, the file and line).

The cases are generated with ``random.Random(1234)`` from a valid demo corpus and from the
project's params (read live, so new settings are fuzzed too), and a failure names its case
number. The first 120 corpus cases apply one mutation each and are checked against what it
must do (read unchanged, read, or rejected at a known line); of the other 80, half mix any
mutations (checked for the invariants only) and half mix harmless ones (BOM, CRLF, blank lines
of whitespace, extra blank lines, a dropped or huge comment, a dangling I- tag, non-ASCII
tokens), which must still be read. The last 30 params files break the checks across keys
(nerhpo.core.config): settings the schema accepts one by one that are wrong together (a family or
variant named that is not defined, a range whose low is not below its high, a sprint that is
not a main study, ...).

The 100 users' files (``random.Random(1818)``) are the demo corpus written in the forms the
corpus stage reads with params corpus.* (format, tag scheme, invisible characters, a token
prefix: auto or remove): GermEval or CoNLL (tab, space, runs of spaces, CoNLL-2003's four
columns with -DOCSTART-), IOB1/IOB2/IOBES/BILOU, a language prefix on every token, soft
hyphens and zero-width characters inside tokens, trailing tabs, runs of blank lines. Half must
read back to the demo's sentences, with the form detected; half carry one breaking edit (a
token of invisible characters only or of the prefix only, a BILOU tag in an IOBES file, a tag
with an invisible type, a line of one column) and must be rejected at that line, in one line;
6 of them also go through make_corpus.py with the project's params.

Result when written (seed 1234): of 200 corpus files 67 were read and 133 rejected (the 120
single mutations: 26 read, 94 rejected); all 80 params files were rejected with ParamsError,
each message naming the broken key(s) (or, for unparsable YAML and bad UTF-8, file and line).
(Entity types became any printable text without whitespace (issue 18), so three of the bad
tags, B-PER-, B-1PER and B-PÉR, gave way to S-PER, U-LOC and a type with a soft hyphen, and a
trailing tab is read as GermEval's first release has it: the counts stayed the same.)
20 corpus files (10 read, 10 rejected) and 7 params files also went through the real
``workflow/scripts/make_corpus.py``: same verdict, one ``error:`` line, no traceback, and no
output folder after a rejection.

Bugs this found, fixed in nerhpo.data.corpus and nerhpo.core.config:

* corpus: a position of Unicode digits (``²``) or of more than 4300 digits raised a bare
  ValueError from ``int()`` (a traceback in the scripts); a huge bad field (200k-char tag)
  was repeated in full in the "one-line" error; other OS errors (e.g. a path through a file)
  escaped as OSError.
* config: YAML values PyYAML cannot build (``seed: 2024-13-45``, ``!!int abc``,
  ``!!bool maybe``, ``!!timestamp x``) raised ValueError/KeyError/AttributeError; deeply
  nested YAML raised RecursionError; non-string keys (``1:``, ``no:``, ``~:``) crashed
  describe_error with TypeError (and were silently accepted as tag family names); a
  directory as params file raised IsADirectoryError; huge values flooded the message; invalid
  UTF-8 did not name the line. Before the checks across keys, the 30 files of the last group
  were all accepted (a family not in tag_families, for one, ended in a Snakemake traceback).
"""

from __future__ import annotations

import copy
import functools
import random
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from project_copy import ROOT, tiny_params

from nerhpo.core.config import ParamsError, load_params, load_schema
from nerhpo.data import tag_schemes
from nerhpo.data.corpus import (
    TAG_RE,
    CorpusError,
    format_corpus,
    read_corpus,
    read_corpus_with_stats,
    write_corpus,
)
from nerhpo.data.demo import generate_corpus

SCRIPT = ROOT / "workflow" / "scripts" / "make_corpus.py"
N_CORPUS, N_SINGLE, N_CORPUS_SCRIPT = 200, 120, 20
N_PARAMS, N_CROSS, N_PARAMS_SCRIPT = 80, 30, 7
# Entity types are any printable text without whitespace (B-creative-work, B-1PER): these are
# not, or not IOB2 (S-, U-). As many as before, so that the cases drawn stay what they were.
BAD_TAGS = ["B_PER", "X-LOC", "b-per", "", "B-", "I-", "BPER", "S-PER", "U-LOC", "O-PER", "o"]
BAD_TAGS += ["B-PER ", "B\u2013PER", "B-\u00adPER", "B-LOC\u200b", "\u00a0O"]


# --------------------------------------------------------------------------- corpus cases


@functools.cache
def demo() -> dict:
    return generate_corpus(30, 10, 10, seed=1)


def base_lines() -> list[str]:
    return format_corpus(demo()["train"]).split("\n")  # ends with "" (final newline)


def token_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")]


def separators(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if not line.strip() and 0 < i < len(lines) - 1]


def comments(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.startswith("#")]


def set_column(lines, i, col, value):
    cols = lines[i].split("\t")
    cols[col % len(cols)] = value
    lines[i] = "\t".join(cols)


# Line mutations: (rng, lines) -> (expect, line number of the problem or None), editing lines.
# expect: "same" (read, equal to the original), "read" (read), "reject", or None (either).


def m_truncate_line(rng, lines):
    i = rng.choice(token_lines(lines))
    lines[i] = lines[i][: rng.randrange(len(lines[i]))]
    return None, None


def m_drop_column(rng, lines):
    i = rng.choice(token_lines(lines))
    cols = lines[i].split("\t")
    del cols[rng.randrange(len(cols))]
    lines[i] = "\t".join(cols)
    return "reject", i + 1


def m_add_column(rng, lines):
    i = rng.choice(token_lines(lines))
    cols = lines[i].split("\t")
    at, value = rng.randrange(len(cols) + 1), rng.choice(["O", "", "NN", "B-PER"])
    cols.insert(at, value)
    lines[i] = "\t".join(cols)
    if at == len(cols) - 1 and value == "":  # a trailing tab (GermEval's first release has one)
        return "same", None
    return "reject", i + 1


def m_bad_outer_tag(rng, lines):
    i = rng.choice(token_lines(lines))
    set_column(lines, i, 2, rng.choice(BAD_TAGS))
    return "reject", i + 1


def m_bad_nested_tag(rng, lines):
    i = rng.choice(token_lines(lines))
    set_column(lines, i, 3, rng.choice(BAD_TAGS))
    return "reject", i + 1


def m_huge_line(rng, lines):
    i = rng.choice(token_lines(lines))
    lines[i] = rng.choice(["x" * 200_000, f"1\t{'A' * 200_000}\tO\tO", "\t".join(["O"] * 70_000)])
    return "reject", i + 1


def m_huge_field(rng, lines):  # under the line limit, but a huge bad tag or position
    i = rng.choice(token_lines(lines))
    set_column(lines, i, rng.choice([0, 2, 3]), rng.choice(["Q", "9"]) * 90_000)
    return "reject", i + 1


def m_huge_comment(rng, lines):
    i = rng.choice(comments(lines))
    lines[i] = "#\t" + "c" * 200_000
    return "read", None


def m_tabs_to_spaces_line(rng, lines):
    i = rng.choice(token_lines(lines))
    lines[i] = lines[i].replace("\t", rng.choice([" ", "  ", "    "]))
    return "reject", i + 1


def m_tabs_to_spaces_all(rng, lines):
    lines[:] = [line.replace("\t", " ") for line in lines]
    return "reject", token_lines(lines)[0] + 1


def m_mixed_tabs_spaces(rng, lines):
    i = rng.choice(token_lines(lines))
    tabs = [k for k, c in enumerate(lines[i]) if c == "\t"]
    k = rng.choice(tabs)
    lines[i] = lines[i][:k] + rng.choice([" ", "  ", " \t", "\t "]) + lines[i][k + 1 :]
    return "reject", i + 1


def m_unicode_position(rng, lines):
    i = rng.choice(token_lines(lines))
    set_column(lines, i, 0, rng.choice(["\u00b2", "\u0663", "1.0", "-1", "0", "", "\uff11"]))
    return "reject", i + 1


def m_delete_separator(rng, lines):
    i = rng.choice(separators(lines))
    del lines[i]
    return "reject", i + 1


def m_delete_all_separators(rng, lines):
    first = separators(lines)[0]
    lines[:] = [line for k, line in enumerate(lines) if line.strip() or k == len(lines) - 1]
    return "reject", first + 1


def m_duplicate_position(rng, lines):
    i = rng.choice(token_lines(lines))
    lines.insert(i + 1, lines[i])
    return "reject", i + 2


def m_swap_lines(rng, lines):
    tokens = set(token_lines(lines))
    pairs = [i for i in sorted(tokens) if i + 1 in tokens]
    i = rng.choice(pairs)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return "reject", i + 1


def m_whitespace_separator(rng, lines):
    for i in rng.sample(separators(lines), 3):
        lines[i] = rng.choice([" ", "\t", " \t ", "   \t"])
    return "same", None


def m_extra_blank_lines(rng, lines):
    for i in sorted(rng.sample(separators(lines), 3), reverse=True):
        lines[i:i] = [""] * rng.randint(1, 4)
    lines[0:0] = [""] * rng.randint(0, 3)
    lines.extend([""] * rng.randint(0, 3))
    return "same", None


def m_drop_comment(rng, lines):
    del lines[rng.choice(comments(lines))]
    return "read", None


def m_orphan_header(rng, lines):
    i = rng.choice(separators(lines))
    lines[i + 1 : i + 1] = ["#\torphan header", ""]
    return "reject", i + 2


def m_comment_inside(rng, lines):
    i = rng.choice(token_lines(lines))
    lines.insert(i + 1, "#\tcomment inside")
    return "reject", i + 2


def m_dangling_i_tag(rng, lines):
    i = rng.choice([k for k in token_lines(lines) if lines[k].startswith("1\t")])
    set_column(lines, i, 2, rng.choice(["I-PER", "I-LOCderiv", "I-ORG"]))
    return "read", None


def m_empty_token(rng, lines):
    i = rng.choice(token_lines(lines))
    set_column(lines, i, 1, rng.choice(["", " ", " Berlin", "Ber lin", "a\u00a0b", "x\x1cy"]))
    return "reject", i + 1


def m_unicode_token(rng, lines):
    i = rng.choice(token_lines(lines))
    set_column(
        lines, i, 1, rng.choice(["Z\u00fcrich", "Stra\u00dfe", "\u6771\u4eac", "\U0001f642"])
    )
    return "read", None


LINE_MUTATIONS = [
    m_truncate_line,
    m_drop_column,
    m_add_column,
    m_bad_outer_tag,
    m_bad_nested_tag,
    m_huge_line,
    m_huge_field,
    m_huge_comment,
    m_tabs_to_spaces_line,
    m_tabs_to_spaces_all,
    m_mixed_tabs_spaces,
    m_unicode_position,
    m_delete_separator,
    m_delete_all_separators,
    m_duplicate_position,
    m_swap_lines,
    m_whitespace_separator,
    m_extra_blank_lines,
    m_drop_comment,
    m_orphan_header,
    m_comment_inside,
    m_dangling_i_tag,
    m_empty_token,
    m_unicode_token,
]

# Byte mutations: (rng, data) -> (data, expect, line or None).

INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88\x80\x80\x80"]
INVALID_UTF8 += [b"\xc0\xaf", b"\x80", b"\xfe\xfe"]


def line_of(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def b_bom(rng, data):
    return b"\xef\xbb\xbf" + data, "same", None


def b_crlf(rng, data):
    return data.replace(b"\n", b"\r\n"), "same", None


def b_lone_cr(rng, data):
    offsets = [k for k, c in enumerate(data) if c == 10]
    k = rng.choice(offsets[:-1])
    return data[:k] + b"\r" + data[k + 1 :], None, None


def b_binary_bytes(rng, data):
    k = rng.randrange(len(data))
    return data[:k] + rng.randbytes(rng.randint(1, 16)) + data[k:], None, None


def b_invalid_utf8(rng, data):
    k = rng.randrange(len(data))
    return data[:k] + rng.choice(INVALID_UTF8) + data[k:], "reject", line_of(data, k)


def b_nul(rng, data):
    k = rng.randrange(len(data))
    return data[:k] + b"\x00" + data[k:], "reject", line_of(data, k)


def b_truncate_file(rng, data):
    return data[: rng.randrange(len(data))], None, None


def b_control_chars(rng, data):
    k = rng.randrange(len(data))
    junk = rng.choice(["\x0b", "\x1c", "\x85", "\u2028", "\ufeff", "\x7f", "\u200b"])
    return data[:k] + junk.encode() + data[k:], None, None


def b_latin1(rng, data):
    text = data.decode("utf-8")
    first = next(k for k, c in enumerate(text) if 127 < ord(c) < 256)
    return text.encode("latin-1", errors="replace"), "reject", text[:first].count("\n") + 1


BYTE_MUTATIONS = [
    b_bom,
    b_crlf,
    b_lone_cr,
    b_binary_bytes,
    b_invalid_utf8,
    b_nul,
    b_truncate_file,
    b_control_chars,
    b_latin1,
]


# Whole-file replacements: rng -> (data, expect, line or None); singles only.


def w_empty(rng):
    return b"", "reject", None


def w_whitespace_only(rng):
    return (
        rng.choice([b" ", b"\n\n\n", b" \t \n\r\n", b"\xef\xbb\xbf\n", b"\t\n  \t\n"]),
        "reject",
        None,
    )


def w_only_header(rng):
    return rng.choice([b"#\tnur ein Kommentar\n", b"# a\n\n# b\n\n"]), "reject", 1


def w_random_blob(rng):
    return rng.randbytes(rng.choice([1, 50, 2000])), None, None


def w_conll_as_germeval(rng):
    return format_corpus(demo()["train"], "conll").encode(), "reject", 1


WHOLE_FILE = [w_empty, w_whitespace_only, w_only_header, w_random_blob, w_conll_as_germeval]
KINDS = LINE_MUTATIONS + BYTE_MUTATIONS + WHOLE_FILE
BENIGN_LINE = [
    m_huge_comment,
    m_whitespace_separator,
    m_extra_blank_lines,
    m_drop_comment,
    m_dangling_i_tag,
    m_unicode_token,
]
BENIGN_BYTES = [b_bom, b_crlf]


@functools.cache
def corpus_cases() -> list[tuple[str, bytes, str | None, int | None]]:
    """(description, file content, expectation, line) for the 200 corpus cases."""
    rng = random.Random(1234)
    cases = []
    for n in range(N_CORPUS):
        lines = base_lines()
        if n < N_SINGLE:
            kind = KINDS[n % len(KINDS)]
            if kind in WHOLE_FILE:
                data, expect, line = kind(rng)
            elif kind in BYTE_MUTATIONS:
                data, expect, line = kind(rng, "\n".join(lines).encode())
            else:
                expect, line = kind(rng, lines)
                data = "\n".join(lines).encode()
            cases.append((kind.__name__, data, expect, line))
            continue
        if n % 2:  # any mix of mutations
            chosen = rng.sample(LINE_MUTATIONS, rng.randint(1, 3))
            chosen += rng.sample(BYTE_MUTATIONS, rng.randint(0, 2))
        else:  # a mix of harmless ones: must still be read
            chosen = rng.sample(BENIGN_LINE, rng.randint(2, 4))
            chosen += rng.sample(BENIGN_BYTES, rng.randint(0, 2))
        expects = []
        for kind in chosen:  # a mutation with nothing left to act on is skipped
            if kind not in BYTE_MUTATIONS:
                try:
                    expects.append(kind(rng, lines)[0])
                except IndexError:
                    pass
        data = "\n".join(lines).encode()
        for kind in chosen:
            if kind in BYTE_MUTATIONS and data:
                try:
                    data, expect, _ = kind(rng, data)
                except (IndexError, StopIteration, UnicodeDecodeError):
                    continue
                expects.append(expect)
        if all(e == "same" for e in expects):
            expect = "same"
        else:
            expect = "read" if all(e in ("same", "read") for e in expects) else None
        cases.append(("+".join(k.__name__ for k in chosen), data, expect, None))
    return cases


def key(sentences):
    return [(s.tokens, s.tags, s.nested, s.comment) for s in sentences]


def check_corpus_case(path: Path, data: bytes, expect, line) -> tuple[str, object]:
    """Read ``path``; check the outcome against the invariants and the expectation."""
    try:
        sentences = read_corpus(path)
    except CorpusError as err:
        msg = str(err)
        assert "\n" not in msg and "\r" not in msg, msg[:500]
        assert len(msg) < len(str(path)) + 250, f"error message too long: {msg[:500]}"
        n_lines = data.count(b"\n") + 1
        if err.line is None:
            assert msg.startswith(f"{path}: ") and err.problem, msg
        else:
            assert msg.startswith(f"{path}:{err.line}: ") and err.problem, msg
            assert 1 <= err.line <= n_lines, msg
        assert expect not in ("same", "read"), f"valid file rejected: {msg}"
        if line is not None:
            assert err.line == line, f"expected the problem on line {line}: {msg}"
        return "rejected", msg
    except Exception as err:  # a traceback in the scripts: the bug this test hunts
        pytest.fail(f"{path}: {type(err).__name__} instead of CorpusError: {err!s:.300}")
    assert expect != "reject", f"broken file accepted (problem on line {line})"
    assert sentences
    for s in sentences:
        assert s.tokens and len(s.tokens) == len(s.tags) == len(s.nested)
        assert all(TAG_RE.match(t) for t in s.tags + s.nested)
        assert all(t and not any(c.isspace() for c in t) for t in s.tokens)
    if expect == "same":
        assert key(sentences) == key(read_corpus(path.with_name("original.tsv")))
    again = path.with_name(path.name + ".again")
    write_corpus(again, sentences)
    assert key(read_corpus(again)) == key(sentences)
    return "read", sentences


def test_corpus_fuzz_in_process(tmp_path):
    (tmp_path / "original.tsv").write_text(format_corpus(demo()["train"]), encoding="utf-8")
    outcomes = {"read": 0, "rejected": 0}
    singles = {"read": 0, "rejected": 0}
    for n, (name, data, expect, line) in enumerate(corpus_cases()):
        path = tmp_path / f"case{n:03d}.tsv"
        path.write_bytes(data)
        try:
            outcome, _ = check_corpus_case(path, data, expect, line)
        except AssertionError as err:
            raise AssertionError(f"case {n} ({name}): {err}") from None
        outcomes[outcome] += 1
        if n < N_SINGLE:
            singles[outcome] += 1
    print(f"corpus fuzz: {outcomes} (single mutations: {singles})")
    with pytest.raises(CorpusError, match="cannot read"):  # an OSError other than not-found
        read_corpus(tmp_path / "original.tsv" / "nested.tsv")
    assert sum(outcomes.values()) == N_CORPUS
    assert outcomes["read"] >= 50 and outcomes["rejected"] >= 100


def run_script(params: dict | Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, Path]:
    if isinstance(params, dict):
        params_path = tmp_path / "params.yaml"
        params_path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    else:
        params_path = params
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--params", str(params_path), "--out", str(out)],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=tmp_path,
        timeout=120,
    )
    return proc, out


# The corpus stage's options that read a file as the reader's defaults do (GermEval, IOB2, no
# prefix; invisible characters kept, only reported): the cases above test the plain reader.
CANONICAL = {
    "format": "germeval",
    "tag_scheme": "iob2",
    "invisible": "keep",
    "token_prefix": "none",
}


def test_corpus_fuzz_through_make_corpus_script(tmp_path):
    """10 read and 10 rejected cases through the real script: same verdict, clean output."""
    good = {}
    for split in ("dev", "test"):
        good[split] = tmp_path / f"{split}.tsv"
        write_corpus(good[split], demo()[split])
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "original.tsv").write_text(format_corpus(demo()["train"]), encoding="utf-8")
    picked = {"read": [], "rejected": []}
    for n, (_, data, expect, line) in enumerate(corpus_cases()):
        path = probe / f"case{n:03d}.tsv"
        path.write_bytes(data)
        outcome, result = check_corpus_case(path, data, expect, line)
        if len(picked[outcome]) < N_CORPUS_SCRIPT // 2 and n % 3 == 0:
            picked[outcome].append((n, data, path, result))
    assert len(picked["read"]) + len(picked["rejected"]) == N_CORPUS_SCRIPT
    for outcome, cases in picked.items():
        for n, data, probe_path, result in cases:
            work = tmp_path / f"run{n:03d}"
            work.mkdir()
            train = work / "train.tsv"
            train.write_bytes(data)
            files = {"train": str(train), "dev": str(good["dev"]), "test": str(good["test"])}
            corpus = {"source": "files", "files": files, **CANONICAL}
            proc, out = run_script(tiny_params(corpus=corpus), work)
            where = f"case {n}: rc {proc.returncode}, stderr {proc.stderr[-2000:]!r}"
            assert "Traceback" not in proc.stderr, where
            if outcome == "read":
                assert proc.returncode == 0, where
                assert sorted(p.name for p in out.iterdir()) == ["dev.tsv", "test.tsv", "train.tsv"]
                assert key(read_corpus(out / "train.tsv")) == key(result), where
                for split in ("dev", "test"):
                    assert key(read_corpus(out / f"{split}.tsv")) == key(demo()[split])
            else:
                assert proc.returncode == 1, where
                expected = "error: " + result.replace(str(probe_path), str(train), 1)
                assert proc.stderr.strip().splitlines() == [expected], where
                assert not out.exists() or not any(out.rglob("*")), where


# ------------------------------------------------------------- users' files in other forms
# The corpus stage reads a user's file with the options of params corpus.* (auto everywhere,
# invisible characters removed): the demo corpus written in other forms (CoNLL with tabs,
# spaces or runs of spaces, CoNLL-2003's four columns and -DOCSTART-, IOB1/IOBES/BILOU, a
# language prefix, invisible characters, trailing tabs, runs of blank lines) must read back to
# the same sentences; with one breaking edit, be rejected at the edited line, in one line.
N_FORMS, N_FORMS_SCRIPT = 100, 6
USER_OPTIONS = {"tag_scheme": "auto", "invisible": "remove", "token_prefix": "auto"}
FORM_FORMATS = ["germeval", "conll-tab", "conll-space", "conll-runs", "conll2003"]
INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e"]
OTHER_LETTERS = {"iobes": "U", "bilou": "S"}


@dataclass
class Form:
    fmt: str
    scheme: str
    prefix: str
    invisible: int
    trailing: bool
    blank_runs: bool

    def name(self) -> str:
        extras = [f"prefix {self.prefix}"] if self.prefix else []
        extras += [f"{self.invisible} invisible"] if self.invisible else []
        extras += ["trailing tabs"] * self.trailing + ["blank runs"] * self.blank_runs
        return " ".join([self.fmt, self.scheme, *extras])


def random_form(rng) -> Form:
    return Form(
        fmt=rng.choice(FORM_FORMATS),
        scheme=rng.choice(tag_schemes.SCHEMES),
        prefix=rng.choice(["", "", "de:", "en:", "nds:"]),
        invisible=rng.choice([0, 0, 1, 5]),
        trailing=rng.random() < 0.3,
        blank_runs=rng.random() < 0.3,
    )


def form_row(form: Form, rng, position: int, token: str, tag: str, inner: str) -> str:
    if form.fmt == "germeval":
        line = f"{position}\t{token}\t{tag}\t{inner}"
    elif form.fmt == "conll-tab":
        line = f"{token}\t{tag}"
    elif form.fmt == "conll-space":
        line = f"{token} {tag}"
    elif form.fmt == "conll-runs":
        return f"{token}{' ' * rng.randint(1, 4)}NN{' ' * rng.randint(1, 4)}{tag}" + " " * (
            rng.random() < 0.2
        )
    else:
        line = f"{token} NN B-NP {tag}"
    tab = form.trailing and "\t" in line and rng.random() < 0.2
    return line + "\t" * tab


def render(form: Form, rng, sentences) -> tuple[list[str], list[tuple[int, int]]]:
    """The file's lines, and (line index, sentence number) of every token line."""
    total = sum(len(s.tokens) for s in sentences)
    hidden = set(rng.sample(range(total), form.invisible))
    lines, where, count = [], [], 0
    for n, s in enumerate(sentences):
        if form.fmt == "conll2003" and n % 7 == 0:
            lines += ["-DOCSTART- -X- -X- O", ""]
        if form.fmt == "germeval" and s.comment is not None:
            lines.append(f"#\t{s.comment}")
        tags = tag_schemes.from_iob2(s.tags, form.scheme)
        nested = tag_schemes.from_iob2(s.nested or ["O"] * len(s.tags), form.scheme)
        for i, (token, tag, inner) in enumerate(zip(s.tokens, tags, nested)):
            token = form.prefix + token
            if count in hidden:  # never first: a BOM at the very start is the file's BOM
                at = rng.randint(1, len(token))
                token = token[:at] + rng.choice(INVISIBLE) + token[at:]
            count += 1
            where.append((len(lines), n))
            lines.append(form_row(form, rng, i + 1, token, tag, inner))
        lines += [""] * (1 + (rng.randint(1, 3) if form.blank_runs and rng.random() < 0.3 else 0))
    return lines, where


def set_field(form: Form, line: str, field: str, value: str) -> str:
    """``line`` with its token or its (outer) tag replaced."""
    sep = "\t" if "\t" in line else " "
    cols = line.split(sep)
    if form.fmt == "germeval":
        cols[1 if field == "token" else 2] = value
    else:
        filled = [k for k, c in enumerate(cols) if c]
        cols[filled[0] if field == "token" else filled[-1]] = value
    return sep.join(cols)


def token_of(form: Form, line: str) -> str:
    cols = [c for c in line.replace("\t", " ").split(" ") if c]
    return cols[1] if form.fmt == "germeval" else cols[0]


# Breaking edits: (rng, form, lines, where) -> the 1-based line of the problem, or None where
# the edit does not apply to the form.


def u_only_invisible(rng, form, lines, where):
    i, _ = rng.choice(where)
    lines[i] = set_field(form, lines[i], "token", rng.choice(["\u200b", "\u00ad\u200d"]))
    return i + 1


def u_only_prefix(rng, form, lines, where):
    if not form.prefix:
        return None
    i, _ = rng.choice(where)
    lines[i] = set_field(form, lines[i], "token", form.prefix)
    return i + 1


def u_other_scheme(rng, form, lines, where):
    """A tag of BILOU in an IOBES file (or the reverse), after the file's scheme has shown."""
    if form.scheme not in OTHER_LETTERS:
        return None
    letters = tag_schemes.LETTERS[form.scheme][2:]
    first = next(n for i, n in where if lines[i].split()[-1][0] in letters)
    later = [i for i, n in where if n > first]
    if not later:
        return None
    i = rng.choice(later)
    lines[i] = set_field(form, lines[i], "tag", f"{OTHER_LETTERS[form.scheme]}-PER")
    return i + 1


def u_bad_type(rng, form, lines, where):
    i, _ = rng.choice(where)
    lines[i] = set_field(form, lines[i], "tag", rng.choice(["B-PER\u200b", "B-\u00adLOC", "B-"]))
    return i + 1


def u_one_column(rng, form, lines, where):
    i, _ = rng.choice(where)
    token = token_of(form, lines[i])
    lines[i] = f"1\t{token}\tO" if form.fmt == "germeval" and lines[i].startswith("1\t") else token
    return i + 1


USER_EDITS = [u_only_invisible, u_only_prefix, u_other_scheme, u_bad_type, u_one_column]


@functools.cache
def user_form_cases() -> list[tuple[str, Form, bytes, int | None]]:
    """(description, form, file content, line of the problem or None) for N_FORMS cases."""
    rng = random.Random(1818)
    cases = []
    for n in range(N_FORMS):
        form = random_form(rng)
        lines, where = render(form, rng, demo()["train"])
        line, name = None, form.name()
        for k in range(len(USER_EDITS) if n % 2 else 0):  # the next edit that applies
            edit = USER_EDITS[(n // 2 + k) % len(USER_EDITS)]
            line = edit(rng, form, lines, where)
            if line:
                name += f" + {edit.__name__}"
                break
        cases.append((name, form, "\n".join(lines).encode(), line))
    return cases


def expected_key(form: Form):
    conll = form.fmt != "germeval"
    return [
        (s.tokens, s.tags, None if conll else s.nested, None if conll else s.comment)
        for s in demo()["train"]
    ]


def check_user_case(path: Path, form: Form, line) -> tuple[str, object]:
    try:
        sentences, stats = read_corpus_with_stats(path, "auto", **USER_OPTIONS)
    except CorpusError as err:
        msg = str(err)
        assert "\n" not in msg and len(msg) < len(str(path)) + 250, msg[:500]
        assert line is not None, f"valid file rejected: {msg}"
        assert err.line == line and msg.startswith(f"{path}:{line}: "), msg
        return "rejected", msg
    except Exception as err:
        pytest.fail(f"{path}: {type(err).__name__} instead of CorpusError: {err!s:.300}")
    assert line is None, f"broken file accepted (problem on line {line})"
    assert key(sentences) == expected_key(form)
    assert stats.format == ("germeval" if form.fmt == "germeval" else "conll")
    assert (stats.tag_scheme, stats.token_prefix) == (form.scheme, form.prefix)
    assert sum(stats.invisible.values()) == form.invisible
    assert all(TAG_RE.match(t) for s in sentences for t in s.tags)
    return "read", sentences


def test_user_forms_fuzz_in_process(tmp_path):
    outcomes = {"read": 0, "rejected": 0}
    for n, (name, form, data, line) in enumerate(user_form_cases()):
        path = tmp_path / f"form{n:03d}.txt"
        path.write_bytes(data)
        try:
            outcome, _ = check_user_case(path, form, line)
        except AssertionError as err:
            raise AssertionError(f"form case {n} ({name}): {err}") from None
        outcomes[outcome] += 1
    print(f"user forms fuzz: {outcomes}")
    assert outcomes == {"read": N_FORMS // 2, "rejected": N_FORMS // 2}


def test_user_forms_through_make_corpus_script(tmp_path):
    """A few cases through the real script with the project's corpus.* defaults: the same
    verdict and sentences; a rejection is one ``error:`` line and leaves no output."""
    good = {}
    for split in ("dev", "test"):
        good[split] = tmp_path / f"{split}.tsv"
        write_corpus(good[split], demo()[split])
    cases = user_form_cases()
    picked = [n for n in range(0, N_FORMS, 2)][:3] + [n for n in range(1, N_FORMS, 2)][:3]
    for n in picked:
        name, form, data, line = cases[n]
        work = tmp_path / f"run{n:03d}"
        work.mkdir()
        train = work / "train.txt"
        train.write_bytes(data)
        outcome, result = check_user_case(train, form, line)
        files = {"train": str(train), "dev": str(good["dev"]), "test": str(good["test"])}
        proc, out = run_script(tiny_params(corpus={"source": "files", "files": files}), work)
        where = f"form case {n} ({name}): rc {proc.returncode}, stderr {proc.stderr[-2000:]!r}"
        assert "Traceback" not in proc.stderr, where
        if outcome == "read":
            assert proc.returncode == 0, where
            back = [s[:2] for s in key(read_corpus(out / "train.tsv"))]
            assert back == [s[:2] for s in key(result)], where
            assert f"{train}: 30 sentences" in proc.stderr, where
        else:
            assert proc.returncode == 1, where
            assert proc.stderr.strip().splitlines() == [f"error: {result}"], where
            assert not out.exists() or not any(out.rglob("*")), where


# --------------------------------------------------------------------------- params cases


def resolve(schema: dict) -> dict:
    if "$ref" in schema:
        return load_schema()["$defs"][schema["$ref"].split("/")[-1]]
    return schema


def walk(schema: dict, value, path=()):
    """(path, schema, value) for every setting, with the schema that governs it."""
    schema = resolve(schema)
    yield path, schema, value
    if isinstance(value, dict):
        for k, v in value.items():
            sub = schema.get("properties", {}).get(k, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                yield from walk(sub, v, (*path, k))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            yield from walk(schema["items"], v, (*path, i))


def dotted(path) -> str:
    return ".".join(map(str, path))


def get(params, path):
    for p in path:
        params = params[p]
    return params


WRONG_VALUES = {
    "integer": ["many", 2.5, True, None, [1]],
    "number": ["fast", True, None, [0.1], {"v": 1}],
    "string": [7, 1.5, True, None, ["a"], {"a": 1}],
    "object": ["text", 3, [1, 2], None],
    "array": ["asha", 3, {"a": 1}, None],
}


def p_wrong_type(rng, params):
    nodes = [
        (p, s) for p, s, _ in walk(load_schema(), params) if p and s.get("type") in WRONG_VALUES
    ]
    path, schema = rng.choice(nodes)
    get(params, path[:-1])[path[-1]] = rng.choice(WRONG_VALUES[schema["type"]])
    return path, [dotted(path)]


def p_out_of_range(rng, params):
    bounds = ("minimum", "maximum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
    nodes = [(p, s) for p, s, _ in walk(load_schema(), params) if p and set(s) & set(bounds)]
    path, schema = rng.choice(nodes)
    bound = rng.choice(sorted(set(schema) & set(bounds)))
    limit = schema[bound]
    step = 1 if schema.get("type") == "integer" else rng.choice([0.5, 1e-9, 1e9])
    bad = {
        "minimum": limit - step,
        "maximum": limit + step,
        "exclusiveMinimum": limit,
        "minLength": "",
        "minItems": [],
        "minProperties": {},
    }[bound]
    get(params, path[:-1])[path[-1]] = bad
    return path, [dotted(path)]


def p_bad_enum(rng, params):
    nodes = [(p, v) for p, s, v in walk(load_schema(), params) if p and "enum" in s]
    path, value = rng.choice(nodes)
    get(params, path[:-1])[path[-1]] = rng.choice(["bogus", str(value).upper(), f" {value}", 3])
    return path, [dotted(path)]


def p_unknown_key(rng, params):
    nodes = [
        (p, v)
        for p, s, v in walk(load_schema(), params)
        if isinstance(v, dict)
        and (s.get("additionalProperties") is False or "enum" in s.get("propertyNames", {}))
    ]
    path, value = rng.choice(nodes)
    name = rng.choice(["bogus", "learning_rat", "gracePeriod", "Seed", "extra_1", "trian", "sead"])
    value[name] = rng.choice([1, "x", None, {}])
    full = dotted((*path, name)) if path else name
    return (*path, name), [[full, (dotted(path), repr(name))]]  # either names it


def p_missing_required(rng, params):
    nodes = [
        (p, v, r)
        for p, s, v in walk(load_schema(), params)
        if isinstance(v, dict)
        for r in s.get("required", [])
        if r in v
    ]
    path, value, name = rng.choice(nodes)
    del value[name]
    return (*path, name), [(dotted(path) or "(top level)", f"'{name}' is a required property")]


def p_duplicate_item(rng, params):
    nodes = [(p, v) for p, s, v in walk(load_schema(), params) if s.get("uniqueItems") and v]
    path, value = rng.choice(nodes)
    value.append(value[0])
    return path, [dotted(path)]


def p_bad_entity_type(rng, params):
    family = params["tag_families"]["simple"]
    if rng.random() < 0.5:
        name = rng.choice(sorted(family))
        # an entity type is any run of non-space characters (B-creative-work is a real one)
        family[name] = rng.choice(["per son", "1 PER", "", "PER\tX"])
        return ("tag_families", "simple", name), ["tag_families.simple." + name]
    name = rng.choice(["per derived", "X Y", " 9PER"])
    family[name] = "PER"
    return ("tag_families", "simple", name), [("tag_families.simple", repr(name))]


def p_bad_family_name(rng, params):
    name = rng.choice(["Simple", "my family", "2nd", "with-dash"])
    params["tag_families"][name] = {}
    return ("tag_families", name), [("tag_families", repr(name))]


def p_non_string_key(rng, params):
    """Keys YAML reads as bool, null or number (``no:``, ``~:``, ``1:``), beside a string one."""
    k, k2, k3 = (rng.choice([False, True, None, 1, 2.5]) for _ in range(3))
    params["tag_families"][k] = {}  # the family-name pattern alone lets non-strings through
    params["tag_families"]["simple"][k2] = "PER"
    params[k3] = 1  # unknown top-level keys of mixed types
    params["bogus_key"] = 1
    wants = [("tag_families", repr(k)), ("tag_families.simple", repr(k2))]
    return ("tag_families",), [*wants, ("(top level)", repr(k3)), "bogus_key"]


STRUCTURAL = [
    p_wrong_type,
    p_out_of_range,
    p_bad_enum,
    p_unknown_key,
    p_missing_required,
    p_duplicate_item,
    p_bad_entity_type,
    p_bad_family_name,
    p_non_string_key,
]


# Mutations across keys: each setting is valid on its own (the schema accepts it), the
# combination is not; the message must name the key and say what is wrong with it.
def space_of(params) -> dict:
    return params["hpo"]["search_space"]


def x_range_order(rng, params):
    space = space_of(params)
    name = rng.choice(sorted(n for n, spec in space.items() if spec["type"] != "choice"))
    spec = space[name]
    spec["low"], spec["high"] = spec["high"], rng.choice([spec["low"], spec["high"]])
    path = ("hpo", "search_space", name)
    return path, [(dotted(path), "must be below high")]


def x_loguniform_low(rng, params):
    low = rng.choice([0, 0.0, -0.001, -1])
    space_of(params)["learning_rate"] = {"type": "loguniform", "low": low, "high": 0.0025}
    path = ("hpo", "search_space", "learning_rate")
    return path, [(dotted(path) + ".low", "above 0")]


def x_int_bounds(rng, params):
    bound, value = rng.choice(["low", "high"]), rng.choice([7.5, 8.0, 4.25, 64.5])
    spec = {"type": "int", "low": 8, "high": 64, bound: value}
    space_of(params)["batch_size"] = spec
    path = ("hpo", "search_space", "batch_size")
    return path, [(f"{dotted(path)}.{bound}", "not an integer")]


def x_outside_train_range(rng, params):
    name = rng.choice(["attention_dropout", "hidden_dropout", "warmup_ratio"])
    if rng.random() < 0.5:
        space_of(params)[name] = {"type": "uniform", "low": 0.0, "high": rng.choice([1.5, 2])}
        where = ".high"
    else:
        space_of(params)[name] = {"type": "choice", "values": [0.1, rng.choice([-0.1, 3])]}
        where = ".values.1"
    path = ("hpo", "search_space", name)
    return path, [(dotted(path) + where, f"as for train.{name}")]


def x_unknown_family(rng, params):
    name = rng.choice(["nosuch", "simple2", "orig"])
    key = rng.choice(["hpo.families", "hpo.compare.families", "baseline.family"])
    *head, last = key.split(".")
    parent = get(params, head)
    if key == "baseline.family":
        parent[last] = name
        return tuple(key.split(".")), [(key, repr(name), "tag_families")]
    parent[last].append(name)
    index = len(parent[last]) - 1
    return tuple(key.split(".")), [(f"{key}.{index}", repr(name), "tag_families")]


def x_unknown_variant(rng, params):
    variant = rng.choice(params["hpo"]["train_variants"])
    params["variants"]["names"].remove(variant)
    index = params["hpo"]["train_variants"].index(variant)
    return ("variants", "names"), [(f"hpo.train_variants.{index}", repr(variant), "variants.names")]


def x_sprint_not_main(rng, params):
    hpo, sprint = params["hpo"], params["sprint"]
    sprint["enabled"] = True
    field = rng.choice(["family", "variant", "algorithm"])
    if field == "family":
        params["tag_families"]["extra"] = {}
        sprint["family"] = "extra"
    elif field == "variant":
        sprint["variant"] = rng.choice(
            [v for v in params["variants"]["names"] if v not in hpo["train_variants"]]
        )
    else:
        sprint["algorithm"] = rng.choice([a for a in ALGORITHM_NAMES if a not in hpo["algorithms"]])
    return ("sprint", field), [(f"sprint.{field}", "main study")]


def x_sprint_keep(rng, params):
    sprint = params["sprint"]
    sprint["enabled"] = True
    sprint["keep"] = sprint["num_samples"] + rng.randint(1, 5)
    return ("sprint", "keep"), [("sprint.keep", "sprint.num_samples")]


def x_grace_period(rng, params):
    hpo = params["hpo"]
    algorithm = rng.choice(["asha", "tpe"])
    if algorithm not in hpo["algorithms"]:
        hpo["algorithms"].append(algorithm)
    hpo[algorithm]["grace_period"] = hpo["max_epochs"] + rng.randint(1, 3)
    path = ("hpo", algorithm, "grace_period")
    return path, [(dotted(path), "hpo.max_epochs")]


def x_scratch_model(rng, params):
    model = params["model"]
    model["name_or_path"] = "scratch"
    if rng.random() < 0.5:
        model["scratch"]["num_heads"] = rng.choice([3, 5, 7])
        model["scratch"]["hidden_size"] = 128
        return ("model", "scratch", "num_heads"), [("model.scratch.num_heads", "does not divide")]
    model["max_length"] = model["scratch"]["max_length"] + rng.choice([1, 128])
    return ("model", "max_length"), [("model.max_length", "model.scratch.max_length")]


def x_mapped_o(rng, params):
    params["tag_families"]["simple"]["O"] = rng.choice(["PER", "LOC", "O"])
    return ("tag_families", "simple", "O"), [("tag_families.simple.O", "no entity type")]


ALGORITHM_NAMES = ("asha", "bohb", "pbt", "random", "grid", "tpe", "gp")
CROSS_KEY = [
    x_range_order,
    x_loguniform_low,
    x_int_bounds,
    x_outside_train_range,
    x_unknown_family,
    x_unknown_variant,
    x_sprint_not_main,
    x_sprint_keep,
    x_grace_period,
    x_scratch_model,
    x_mapped_o,
]

# Text mutations: (rng, lines) -> (text or bytes, exact line or None, lowest line, phrase).
SCALAR_LINE = re.compile(r"^(\s*)([A-Za-z_]\w*): (\S.*)$")


def scalar_line(rng, lines):
    j = rng.choice([k for k, line in enumerate(lines) if SCALAR_LINE.match(line)])
    indent, name, _ = SCALAR_LINE.match(lines[j]).groups()
    return j, f"{indent}{name}: "


def t_syntax(rng, lines):
    j, head = scalar_line(rng, lines)
    exact, loose = (
        ["a: b", "@x", "`x", "*undefined_alias", "'a' junk"],
        ["[unclosed", '"abc', "{a: 1"],
    )
    bad = rng.choice(exact + loose)
    lines[j] = head + bad
    return "\n".join(lines), (j + 1 if bad in exact else None), j + 1, "not valid YAML"


def t_tab_indent(rng, lines):
    j = rng.choice([k for k, line in enumerate(lines) if line.startswith("  ")])
    lines[j] = "\t" + lines[j]
    return "\n".join(lines), j + 1, j + 1, "not valid YAML"


def t_python_tag(rng, lines):
    j, head = scalar_line(rng, lines)
    tag = rng.choice(
        [
            "!!python/object/apply:os.system ['true']",
            "!!python/name:os.system",
            "!!python/tuple [1, 2]",
            "!!python/object:collections.OrderedDict {}",
        ]
    )
    lines[j] = head + tag
    return "\n".join(lines), j + 1, j + 1, "not valid YAML"


def t_bad_value(rng, lines):
    j, head = scalar_line(rng, lines)
    value = rng.choice(
        ["2024-13-45", "!!int abc", "!!float x.y", "!!timestamp soon", "!!bool maybe"]
        + ["!!int " + "9" * 5000, "!!str {a: 1}", "!!omap x"]
    )
    lines[j] = head + value
    return "\n".join(lines), j + 1, j + 1, "not valid YAML"


def t_not_utf8(rng, lines):
    j = rng.randrange(len(lines))
    raw = [line.encode() for line in lines]
    raw[j] += rng.choice([b"\xff\xfe", b"\xe9", b"\xc3"])
    return b"\n".join(raw) + b"\n", j + 1, j + 1, "not valid UTF-8"


def t_not_mapping(rng, lines):
    text = rng.choice(["- a\n- b\n", "42\n", "just text\n", "", "null\n", "[1, 2]\n", "~\n"])
    return text, None, None, "expected a mapping of settings at the top level"


def t_deep_nesting(rng, lines):
    j, head = scalar_line(rng, lines)
    depth = rng.choice([2000, 5000])
    lines[j] = head + "[" * depth + "]" * depth
    return "\n".join(lines), j + 1, j + 1, "nested too deeply"


TEXTUAL = [
    t_syntax,
    t_tab_indent,
    t_python_tag,
    t_bad_value,
    t_not_utf8,
    t_not_mapping,
    t_deep_nesting,
]


@functools.cache
def params_cases() -> list[tuple[str, bytes, list, int | None, int | None, str | None]]:
    """(description, file content, keys to name, exact line, lowest line, phrase)."""
    rng = random.Random(1234)
    base = tiny_params()
    text = yaml.safe_dump(base, sort_keys=False)
    plan = [STRUCTURAL[n % len(STRUCTURAL)] for n in range(27)]
    plan += [TEXTUAL[n % len(TEXTUAL)] for n in range(18)] + ["combo"] * 5
    # appended, so that the cases above stay what they were
    plan += [CROSS_KEY[n % len(CROSS_KEY)] for n in range(2 * len(CROSS_KEY))]
    plan += ["cross combo"] * (N_CROSS - 2 * len(CROSS_KEY))
    assert len(plan) == N_PARAMS
    cases = []
    for kind in plan:
        if kind in TEXTUAL:
            data, exact, lowest, phrase = kind(rng, text.splitlines())
            data = data.encode() if isinstance(data, str) else data
            cases.append((kind.__name__, data, [], exact, lowest, phrase))
            continue
        params = copy.deepcopy(base)
        kinds = (
            rng.sample(STRUCTURAL, 2)
            if kind == "combo"
            else rng.sample(CROSS_KEY, 2)
            if kind == "cross combo"
            else [kind]
        )
        paths, names = [], []
        for k in kinds:
            trial = copy.deepcopy(params)
            path, want = k(rng, trial)
            if any(path[: len(p)] == p or p[: len(path)] == path for p in paths):
                continue  # keep the two broken keys apart
            params, names = trial, names + want
            paths.append(path)
        data = yaml.safe_dump(params, sort_keys=False).encode()
        description = "+".join(k.__name__ for k in kinds)
        cases.append((description, data, names, None, None, None))
    return cases


def names_key(msg: str, want) -> bool:
    """``want``: a string in msg, a tuple of strings all in msg, or a list of alternatives."""
    if isinstance(want, list):
        return any(names_key(msg, w) for w in want)
    if isinstance(want, tuple):
        return all(part in msg for part in want)
    return want in msg


def check_params_case(path: Path, names, exact, lowest, phrase) -> str:
    try:
        load_params(path)
    except ParamsError as err:
        msg = str(err)
    except Exception as err:
        pytest.fail(f"{path}: {type(err).__name__} instead of ParamsError: {err!s:.300}")
    else:
        pytest.fail(f"{path}: broken params accepted")
    assert msg.startswith(f"{path}"), msg
    assert all(len(line) < 400 for line in msg.splitlines()), msg[:1000]
    for want in names:
        assert names_key(msg, want), f"{want} not named in: {msg}"
    if phrase:
        assert phrase in msg, msg
    if lowest is not None:
        m = re.match(rf"{re.escape(str(path))}:(\d+): ", msg)
        assert m, f"no line named: {msg}"
        assert int(m.group(1)) >= lowest and (exact is None or int(m.group(1)) == exact), msg
    return msg


def test_params_fuzz(tmp_path):
    import jsonschema

    schema = jsonschema.Draft202012Validator(load_schema())
    for n, (name, data, names, exact, lowest, phrase) in enumerate(params_cases()):
        path = tmp_path / f"params{n:02d}.yaml"
        path.write_bytes(data)
        try:
            if all(k.startswith("x_") for k in name.split("+")):  # valid one key at a time
                assert schema.is_valid(yaml.safe_load(data)), "the schema alone rejects it"
            check_params_case(path, names, exact, lowest, phrase)
        except AssertionError as err:
            raise AssertionError(f"params case {n} ({name}): {err}") from None
    with pytest.raises(ParamsError, match="is a directory"):
        load_params(tmp_path)


def test_params_fuzz_through_make_corpus_script(tmp_path):
    cases = params_cases()
    kinds = ["p_wrong_type", "p_unknown_key", "t_syntax", "t_python_tag", "t_bad_value"]
    kinds += ["x_range_order", "x_unknown_family"]
    picked = [next(n for n, c in enumerate(cases) if c[0] == kind) for kind in kinds]
    assert len(picked) == N_PARAMS_SCRIPT
    for n in picked:
        name, data, names, exact, lowest, phrase = cases[n]
        work = tmp_path / f"run{n:02d}"
        work.mkdir()
        path = work / "params.yaml"
        path.write_bytes(data)
        msg = check_params_case(path, names, exact, lowest, phrase)
        proc, out = run_script(path, work)
        where = f"params case {n} ({name}): rc {proc.returncode}, stderr {proc.stderr[-2000:]!r}"
        assert proc.returncode == 1, where
        assert proc.stderr.startswith("error: "), where
        assert proc.stderr.strip() == f"error: {msg}", where
        assert "Traceback" not in proc.stderr, where
        assert not out.exists(), where
