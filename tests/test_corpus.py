import logging

import pytest

from nerhpo.data.corpus import (
    CorpusError,
    Sentence,
    entity_types,
    format_corpus,
    read_corpus,
    read_corpus_with_stats,
    repair_iob2,
    write_corpus,
)


@pytest.mark.parametrize(
    "name, sentences, tokens",
    [("NER-de-dev.tsv", 2200, 41653), ("NER-de-test.tsv", 5100, 96499)],
)
def test_real_germeval_counts_and_exact_round_trip(germeval_dir, tmp_path, name, sentences, tokens):
    path = germeval_dir / name
    corpus, stats = read_corpus_with_stats(path)
    assert (stats.sentences, stats.tokens) == (sentences, tokens)
    assert stats.repaired_i_tags == 0
    assert len(entity_types(corpus)) == 12
    assert all(s.comment for s in corpus)
    out = tmp_path / name
    write_corpus(out, corpus)
    assert out.read_bytes() == path.read_bytes()
    again = read_corpus(out)
    assert [(s.tokens, s.tags, s.nested) for s in again] == [
        (s.tokens, s.tags, s.nested) for s in corpus
    ]


def test_conll_round_trip_and_docstart(tmp_path):
    path = tmp_path / "c.conll"
    path.write_text("-DOCSTART- O\n\nAngela NNP B-PER\nMerkel NNP I-PER\nlacht VV O\n\nJa ITJ O\n")
    corpus = read_corpus(path, "conll")
    assert [s.tokens for s in corpus] == [["Angela", "Merkel", "lacht"], ["Ja"]]
    assert corpus[0].tags == ["B-PER", "I-PER", "O"]
    out = tmp_path / "out.conll"
    write_corpus(out, corpus, "conll")
    assert [s.tags for s in read_corpus(out, "conll")] == [s.tags for s in corpus]


def test_bom_and_crlf_accepted(tmp_path):
    path = tmp_path / "bom.tsv"
    path.write_bytes(b"\xef\xbb\xbf#\tsrc\r\n1\tBerlin\tB-LOC\tO\r\n2\tist\tO\tO\r\n\r\n")
    (s,) = read_corpus(path)
    assert s.tokens == ["Berlin", "ist"] and s.tags == ["B-LOC", "O"]


def test_dangling_i_tags_repaired_and_counted(tmp_path, caplog):
    path = tmp_path / "i.tsv"
    path.write_text("1\tin\tO\tO\n2\tBerlin\tI-LOC\tO\n3\tMitte\tI-ORG\tO\n")
    with caplog.at_level(logging.WARNING):
        (s,), stats = read_corpus_with_stats(path)
    assert s.tags == ["O", "B-LOC", "B-ORG"]
    assert stats.repaired_i_tags == 2
    assert "repaired 2 I- tag(s)" in caplog.text
    assert repair_iob2(["B-PER", "I-PER", "I-LOC"]) == (["B-PER", "I-PER", "B-LOC"], 1)


BAD_CASES = {
    "wrong_columns": ("1\tBerlin\tB-LOC\n", ":1: expected 4 tab-separated columns"),
    "malformed_tag": ("1\tBerlin\tB_LOC\tO\n", ":1: malformed outer tag 'B_LOC'"),
    "bad_nested": ("1\tBerlin\tB-LOC\tX-LOC\n", ":1: malformed nested tag 'X-LOC'"),
    "empty": ("", ": empty file"),
    "blank_only": ("\n\n  \n", ": empty file"),
    "bad_position": ("1\tA\tO\tO\n3\tB\tO\tO\n", ":2: position '3' should be 2"),
    "comment_inside": ("1\tA\tO\tO\n#\tx\n", ":2: comment line inside a sentence"),
    "header_only": ("#\tsrc\n\n1\tA\tO\tO\n", ":1: sentence header without tokens"),
    "space_token": ("1\tA B\tO\tO\n", ":1: empty token or token with whitespace"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_names_file_line_and_problem(tmp_path, case):
    text, message = BAD_CASES[case]
    path = tmp_path / f"{case}.tsv"
    path.write_text(text)
    with pytest.raises(CorpusError) as err:
        read_corpus(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_not_utf8_names_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("1\tA\tO\tO\n2\tMünchen\tB-LOC\tO\n".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin1.tsv:2: not valid UTF-8 \(byte 0xfc\)"):
        read_corpus(path)


def test_binary_and_missing(tmp_path):
    path = tmp_path / "bin.tsv"
    path.write_bytes(b"1\tA\tO\tO\n\x00\x01\x02")
    with pytest.raises(CorpusError, match=r"bin.tsv:2: contains a NUL byte"):
        read_corpus(path)
    with pytest.raises(CorpusError, match="file not found"):
        read_corpus(tmp_path / "nope.tsv")


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    import errno
    import os

    out = tmp_path / "out.tsv"
    write_corpus(out, [Sentence(["alt"], ["O"])])
    before = out.read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        write_corpus(out, [Sentence(["neu"], ["O"])])
    assert out.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["out.tsv"]  # no temporary file left


def test_format_conll_has_no_comments():
    text = format_corpus([Sentence(["A"], ["B-PER"], comment="c")], "conll")
    assert text == "A\tB-PER\n"
