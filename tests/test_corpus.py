import logging
from pathlib import Path

import pytest

from nerhpo.data import tag_schemes
from nerhpo.data.corpus import (
    TAG_RE,
    CorpusError,
    Sentence,
    describe_read,
    detect_format,
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


# --------------------------------------------------------------------- users' files (issue 18)
# The corpus stage reads a user's file with the options of params corpus.*; these are them.
ROOT = Path(__file__).resolve().parents[1]
USER = {"tag_scheme": "auto", "invisible": "remove", "token_prefix": "auto"}


def read_user(path, fmt="auto", **options):
    return read_corpus_with_stats(path, fmt, **{**USER, **options})


def sentence_key(corpus):
    return [(s.tokens, s.tags, s.nested, s.comment) for s in corpus]


@pytest.mark.parametrize("name", ["NER-de-dev.tsv", "NER-de-test.tsv"])
def test_real_germeval_read_as_a_users_file(germeval_dir, caplog, name):
    """The 2022 files through the corpus stage's options: detected as GermEval/IOB2, no
    invisible characters, no prefix, the same sentences as the plain reader gives."""
    path = germeval_dir / name
    with caplog.at_level(logging.INFO):
        corpus, stats = read_user(path)
    assert (stats.format, stats.tag_scheme, stats.token_prefix) == ("germeval", "iob2", "")
    assert stats.auto == ["format", "tag_scheme", "token_prefix"]
    assert not stats.invisible and stats.trailing_columns == 0 and stats.repaired_i_tags == 0
    assert sentence_key(corpus) == sentence_key(read_corpus(path))
    summary = describe_read(stats)
    assert "format germeval (detected), tag scheme iob2 (detected), no token prefix" in summary
    assert "0 invisible character(s)" in summary
    assert "invisible" not in caplog.text and "repaired" not in caplog.text


def test_real_germeval_with_first_release_quirks(germeval_dir, tmp_path, caplog):
    """The first release's trailing tab (a 5th, empty column) and a soft hyphen inside a token,
    put into a scratch copy of the dev file (in tmp_path, never in the repository)."""
    lines = (germeval_dir / "NER-de-dev.tsv").read_text(encoding="utf-8").split("\n")
    token_lines = [i for i, line in enumerate(lines) if line[:1].isdigit()]
    tab, hyphen = token_lines[10], token_lines[20]
    lines[tab] += "\t"
    cols = lines[hyphen].split("\t")
    word = cols[1]
    cols[1] = word[:1] + "\u00ad" + word[1:]
    lines[hyphen] = "\t".join(cols)
    path = tmp_path / "NER-de-dev.tsv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with caplog.at_level(logging.INFO):
        corpus, stats = read_user(path)
    assert sentence_key(corpus) == sentence_key(read_corpus(germeval_dir / "NER-de-dev.tsv"))
    assert (stats.trailing_columns, stats.first_trailing) == (1, tab + 1)
    assert stats.invisible == {"\u00ad": 1} and stats.first_invisible == hyphen + 1
    assert f"ignored empty trailing columns on 1 line(s), first at {path}:{tab + 1}" in caplog.text
    assert f"(U+00AD SOFT HYPHEN x1), first at {path}:{hyphen + 1}; removed" in caplog.text
    kept, _ = read_user(path, invisible="keep")
    assert word[:1] + "\u00ad" + word[1:] in {t for s in kept for t in s.tokens}


def test_trailing_empty_columns_tolerated_other_extra_columns_not(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("1\tBerlin\tB-LOC\tO\t\n2\tist\tO\tO\t\t\n")
    (s,), stats = read_corpus_with_stats(path)
    assert s.tokens == ["Berlin", "ist"] and stats.trailing_columns == 2
    path.write_text("1\tBerlin\tB-LOC\tO\tx\n")
    with pytest.raises(CorpusError, match=r"t.tsv:1: expected 4 tab-separated columns .* found 5"):
        read_corpus(path)


@pytest.mark.parametrize(
    "char", ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e"]
)
def test_invisible_characters_removed_or_kept_and_counted(tmp_path, char):
    path = tmp_path / "i.tsv"
    path.write_text(f"1\tBer{char}lin\tB-LOC\tO\n2\tist{char}{char}\tO\tO\n\n1\tja\tO\tO\n")
    corpus, stats = read_user(path)
    assert corpus[0].tokens == ["Berlin", "ist"]
    assert stats.invisible == {char: 3} and stats.invisible_tokens == 2
    assert stats.first_invisible == 1
    kept, stats = read_user(path, invisible="keep")
    assert kept[0].tokens == [f"Ber{char}lin", f"ist{char}{char}"] and stats.invisible[char] == 3
    untouched, stats = read_corpus_with_stats(path)  # the pipeline's own files: as they are
    assert untouched[0].tokens == kept[0].tokens and not stats.invisible


def test_token_of_only_invisible_characters_is_an_error(tmp_path):
    path = tmp_path / "i.tsv"
    path.write_text("1\tBerlin\tB-LOC\tO\n2\t\u200b\u00ad\tO\tO\n")
    with pytest.raises(CorpusError) as err:
        read_user(path)
    assert str(err.value).startswith(f"{path}:2: token '\\u200b\\xad' is empty once its invisible")
    assert read_user(path, invisible="keep")[0][0].tokens == ["Berlin", "\u200b\u00ad"]


CONLL_FORMS = {
    "tab": "Angela\tB-PER\nMerkel\tI-PER\nlacht\tO\n\nJa\tO\n",
    "space": "Angela B-PER\nMerkel I-PER\nlacht O\n\nJa O\n",
    "space_runs": "Angela    NNP  B-PER\nMerkel NNP   I-PER  \nlacht VV O\n\n\n\nJa  ITJ  O\n",
    "conll2003": (
        "-DOCSTART- -X- -X- O\n\nAngela NNP B-NP B-PER\nMerkel NNP I-NP I-PER\n"
        "lacht VVFIN B-VP O\n\n-DOCSTART- -X- -X- O\n\nJa ITJ B-INTJ O\n"
    ),
    "conll2003_tabs": (
        "-DOCSTART-\t-X-\t-X-\tO\n\nAngela\tNNP\tB-NP\tB-PER\nMerkel\tNNP\tI-NP\tI-PER\n"
        "lacht\tVVFIN\tB-VP\tO\n\n\n-DOCSTART-\t-X-\t-X-\tO\n\nJa\tITJ\tB-INTJ\tO\t\n\n\n"
    ),
}


@pytest.mark.parametrize("form", sorted(CONLL_FORMS))
def test_conll_forms(tmp_path, form):
    path = tmp_path / f"{form}.conll"
    path.write_text(CONLL_FORMS[form])
    for fmt in ("conll", "auto"):
        corpus, stats = read_user(path, fmt)
        assert stats.format == "conll"
        assert [s.tokens for s in corpus] == [["Angela", "Merkel", "lacht"], ["Ja"]]
        assert [s.tags for s in corpus] == [["B-PER", "I-PER", "O"], ["O"]]
    assert stats.documents == ([0, 1] if "2003" in form else [])


def test_conll_line_with_one_column_names_the_line(tmp_path):
    path = tmp_path / "c.conll"
    path.write_text("Angela B-PER\n\nMerkel\n")
    with pytest.raises(CorpusError, match=r"c.conll:3: expected at least 2 columns"):
        read_user(path, "conll")


@pytest.mark.parametrize(
    "text, fmt",
    [
        ("#\tsrc\n1\tBerlin\tB-LOC\tO\n", "germeval"),
        ("1\tBerlin\tB-LOC\tO\t\n", "germeval"),
        ("01\tBerlin\tB-LOC\tO\n", "germeval"),
        ("1\tBerlin\tB-LOC\n2\tist\tO\tO\n", "germeval"),  # broken, but GermEval: its error
        ("Berlin\tB-LOC\n", "conll"),
        ("1\tCD\tB-NP\tO\nJahr\tNN\tI-NP\tO\n", "germeval"),  # looks GermEval: fails loudly
        ("1 CD B-NP O\n2 NN I-NP O\n", "conll"),  # spaces: never GermEval
        ("-DOCSTART- -X- -X- O\n\nBerlin NNP B-NP B-LOC\n", "conll"),
        ("\n\n1\tBerlin\tO\n", "germeval"),
    ],
)
def test_format_detection(text, fmt):
    assert detect_format(text.split("\n")) == fmt


def test_auto_format_reads_germeval_and_names_its_errors(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("1\tBerlin\tB-LOC\tO\n")
    assert read_user(path)[1].format == "germeval"
    path.write_text("1\tBerlin\tB-LOC\n2\tist\tO\tO\n")
    with pytest.raises(CorpusError, match=r"g.tsv:1: expected 4 tab-separated columns"):
        read_user(path)


TAGS_IOB2 = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG", "O", "B-PER"]
IN_SCHEME = {
    "iob1": ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG", "O", "I-PER"],
    "iob2": TAGS_IOB2,
    "iobes": ["B-PER", "E-PER", "O", "S-LOC", "B-LOC", "E-LOC", "S-ORG", "O", "S-PER"],
    "bilou": ["B-PER", "L-PER", "O", "U-LOC", "B-LOC", "L-LOC", "U-ORG", "O", "U-PER"],
}


@pytest.mark.parametrize("scheme", sorted(IN_SCHEME))
def test_tag_scheme_conversion_is_exact(scheme):
    tags = IN_SCHEME[scheme]
    assert tag_schemes.to_iob2(tags, scheme) == (TAGS_IOB2, 4 if scheme == "iob1" else 0)
    assert tag_schemes.from_iob2(TAGS_IOB2, scheme) == tags
    assert tag_schemes.detect_scheme([["O"], tags]) == scheme


def test_tag_scheme_round_trip_on_the_demo_corpus():
    from nerhpo.data.demo import generate_corpus

    sentences = [s.tags for split in generate_corpus(60, 10, 10, seed=3).values() for s in split]
    for scheme in tag_schemes.SCHEMES:
        for tags in sentences:
            assert tag_schemes.to_iob2(tag_schemes.from_iob2(tags, scheme), scheme)[0] == tags


def test_tag_scheme_repairs_and_edge_cases():
    assert tag_schemes.iobes_to_iob2(["O", "E-PER", "I-LOC"]) == (["O", "B-PER", "B-LOC"], 2)
    assert tag_schemes.bilou_to_iob2(["U-PER", "L-PER"]) == (["B-PER", "I-PER"], 0)
    assert tag_schemes.iob1_to_iob2(["I-PER", "B-PER", "I-LOC"]) == (
        ["B-PER", "B-PER", "B-LOC"],
        2,
    )
    assert tag_schemes.detect_scheme([["O", "O"]]) == "iob2"  # no entity: nothing to tell
    assert tag_schemes.detect_scheme([["I-PER", "O"], ["B-LOC"]]) == "iob2"  # IOB2, repaired
    assert tag_schemes.detect_scheme([["I-PER", "B-PER"]]) == "iob1"
    assert tag_schemes.detect_scheme([["U-PER"], ["S-PER"]]) == "bilou"  # the first one seen


@pytest.mark.parametrize("scheme", sorted(IN_SCHEME))
def test_reader_converts_each_scheme(tmp_path, caplog, scheme):
    path = tmp_path / f"{scheme}.conll"
    path.write_text("".join(f"w{i} {t}\n" for i, t in enumerate(IN_SCHEME[scheme])))
    for given in (scheme, "auto"):
        with caplog.at_level(logging.INFO):
            (s,), stats = read_user(path, "conll", tag_scheme=given)
        assert s.tags == TAGS_IOB2 and stats.tag_scheme == scheme
        assert ("tag_scheme" in stats.auto) == (given == "auto")
    assert f"tag scheme {scheme} (detected)" in describe_read(stats)
    if scheme == "iob1":
        assert stats.repaired_i_tags == 4 and "IOB1 to IOB2: 4 I- tag(s)" in caplog.text


def test_germeval_nested_column_converted_too(tmp_path):
    path = tmp_path / "n.tsv"
    path.write_text("1\tBerliner\tS-LOCderiv\tO\n2\tDom\tO\tS-LOC\n3\tam\tO\tO\n")
    (s,), stats = read_user(path)
    assert stats.tag_scheme == "iobes"
    assert s.tags == ["B-LOCderiv", "O", "O"] and s.nested == ["O", "B-LOC", "O"]


def test_tags_outside_the_scheme_name_the_line(tmp_path):
    path = tmp_path / "m.conll"
    path.write_text("a S-PER\nb O\n\nc U-LOC\n")
    with pytest.raises(CorpusError) as err:
        read_user(path, "conll")
    assert str(err.value) == (
        f"{path}:4: outer tag 'U-LOC' is not of tag scheme iobes, detected from the file's "
        "other tags (set corpus.tag_scheme)"
    )
    with pytest.raises(CorpusError, match=r"m.conll:1: malformed outer tag 'S-PER' \(expected O, "):
        read_user(path, "conll", tag_scheme="iob2")
    with pytest.raises(CorpusError, match=r"m.conll:4: malformed outer tag 'U-LOC'"):
        read_user(path, "conll", tag_scheme="iobes")


@pytest.mark.parametrize(
    "tag, ok",
    [
        ("B-creative-work", True),
        ("B-LOCderiv", True),
        ("B-1PER", True),
        ("B-P\u00c9R", True),
        ("B-person:name", True),
        ("B-LOC\u200b", False),
        ("B-LOC\x7f", False),
        ("B-", False),
        ("X-PER", False),
        ("B_PER", False),
        ("b-per", False),
    ],
)
def test_entity_types_of_any_printable_non_whitespace_text(tmp_path, tag, ok):
    path = tmp_path / "e.conll"
    path.write_text(f"Hamlet\t{tag}\n")
    if ok:
        assert read_corpus(path, "conll")[0].tags == [tag] and TAG_RE.match(tag)
    else:
        with pytest.raises(CorpusError, match=r"e.conll:1: malformed outer tag"):
            read_corpus(path, "conll")


def test_language_prefix_detected_and_removed(tmp_path, caplog):
    path = tmp_path / "de.conll"
    path.write_text("de:Angela B-PER\nde:Merkel I-PER\nde:lacht: O\n\nde:Ja O\n")
    corpus, stats = read_user(path)
    assert [s.tokens for s in corpus] == [["Angela", "Merkel", "lacht:"], ["Ja"]]
    assert stats.token_prefix == "de:"
    assert "token prefix 'de:' (detected) removed" in describe_read(stats)
    assert read_user(path, token_prefix="none")[0][0].tokens[0] == "de:Angela"
    assert sentence_key(read_user(path, token_prefix="de:")[0]) == sentence_key(corpus)


@pytest.mark.parametrize(
    "text",
    [
        "Ort B-LOC\nde:Berlin I-LOC\n",  # some tokens only
        "de:Berlin B-LOC\nen:London B-LOC\n",  # two languages
        "Uhr: O\n12:30 O\n",  # colons inside German tokens
        "DE:Berlin B-LOC\nDE:ist O\n",  # not lowercase
        "deu_:Berlin B-LOC\n",
    ],
)
def test_no_prefix_detected_where_not_every_token_has_the_same(tmp_path, text):
    path = tmp_path / "p.conll"
    path.write_text(text)
    corpus, stats = read_user(path)
    assert stats.token_prefix == ""
    assert [t for s in corpus for t in s.tokens] == [line.split()[0] for line in text.splitlines()]


def test_prefix_errors_name_the_line(tmp_path):
    path = tmp_path / "p.conll"
    path.write_text("de:Berlin B-LOC\nist O\n")
    with pytest.raises(CorpusError) as err:
        read_user(path, token_prefix="de:")
    assert str(err.value) == (
        f"{path}:2: token 'ist' lacks the prefix 'de:' of corpus.token_prefix (every token "
        "must carry it)"
    )
    path.write_text("de:Berlin B-LOC\nde: O\n")
    with pytest.raises(CorpusError, match=r"p.conll:2: token 'de:' is empty once its prefix"):
        read_user(path)


def test_one_line_errors_for_the_new_forms(tmp_path):
    cases = {
        "a\u200b O\n": None,
        "\u200b O\n": ":1: token '\\u200b' is empty",
        "a B-\u00adPER\n": ":1: malformed outer tag",
        "a E-PER\nb U-PER\n": ":2: outer tag 'U-PER' is not of tag scheme iobes",
        "en:a O\nen: O\n": ":2: token 'en:' is empty",
    }
    for n, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"case{n}.conll"
        path.write_text(text)
        if message is None:
            assert read_user(path, "conll")[0][0].tokens == ["a"]
            continue
        with pytest.raises(CorpusError) as err:
            read_user(path, "conll")
        assert str(err.value).startswith(f"{path}{message}") and "\n" not in str(err.value)


# ------------------------------------------------------------- one file, several splits (build)


@pytest.mark.parametrize(
    "n, part, of, documents, bounds",
    [
        (2200, 1, 2, [], (0, 1100)),
        (2200, 2, 2, [], (1100, 2200)),
        (7, 1, 2, [], (0, 3)),
        (7, 2, 2, [], (3, 7)),
        (10, 2, 3, [], (3, 6)),
        (10, 1, 2, [0, 4, 7], (0, 4)),  # the cut moves to the nearest document start
        (10, 2, 2, [0, 4, 7], (4, 10)),
        (10, 1, 2, [0], (0, 5)),  # one document: cut by sentences
    ],
)
def test_part_bounds(n, part, of, documents, bounds):
    from nerhpo.data.build import part_bounds

    assert part_bounds(n, part, of, documents) == bounds


def files_params(**corpus):
    import yaml

    from nerhpo.core.config import validate_params

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["corpus"].update(source="files", **corpus)
    return validate_params(params)["corpus"]


def test_one_file_cut_into_dev_and_test(tmp_path):
    from nerhpo.data.build import load_source_corpus

    whole = tmp_path / "all.conll"
    whole.write_text("".join(f"w{i} O\n\n" for i in range(5)))
    train = tmp_path / "train.conll"
    train.write_text("Berlin B-LOC\n")
    files = {"train": str(train), "dev": str(whole), "test": str(whole)}
    corpus = files_params(files=files, parts={"dev": "1/2", "test": "2/2"})
    splits = load_source_corpus(corpus, 1)
    assert [s.tokens[0] for s in splits["dev"]] == ["w0", "w1"]
    assert [s.tokens[0] for s in splits["test"]] == ["w2", "w3", "w4"]
    whole.write_text("w0 O\n")
    with pytest.raises(CorpusError) as err:
        load_source_corpus(corpus, 1)
    assert str(err.value) == (
        f"{whole}: corpus.parts.dev 1/2: that part is empty (the file has 1 sentence(s), 0 "
        "-DOCSTART- document(s))"
    )


def test_real_germeval_train_on_test_and_halve_dev(germeval_dir, tmp_path):
    """Without the official training split: train on NER-de-test.tsv, dev and test are the two
    halves of NER-de-dev.tsv, through the real corpus stage (make_corpus.py)."""
    import subprocess
    import sys

    import yaml

    dev = str(germeval_dir / "NER-de-dev.tsv")
    files = {"train": str(germeval_dir / "NER-de-test.tsv"), "dev": dev, "test": dev}
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["corpus"].update(source="files", files=files, parts={"dev": "1/2", "test": "2/2"})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    script = ROOT / "workflow" / "scripts" / "make_corpus.py"
    out = tmp_path / "corpus"
    proc = subprocess.run(
        [sys.executable, str(script), "--params", str(tmp_path / "params.yaml"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    halves = [read_corpus(out / f"{split}.tsv") for split in ("dev", "test")]
    assert [len(h) for h in halves] == [1100, 1100]
    assert len(read_corpus(out / "train.tsv")) == 5100
    together = (out / "dev.tsv").read_bytes() + b"\n" + (out / "test.tsv").read_bytes()
    assert together == Path(dev).read_bytes()  # in order, nothing lost, nothing changed
    assert (out / "train.tsv").read_bytes() == (germeval_dir / "NER-de-test.tsv").read_bytes()
    assert f"{dev}: 2200 sentences, 41653 tokens; format germeval (detected)" in proc.stderr
    assert f"test: part 2/2 of {dev}, sentences 1101-2200 of 2200" in proc.stderr
