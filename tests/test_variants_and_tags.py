import pytest

from nerhpo.data.casing import VARIANTS, make_variant
from nerhpo.data.corpus import Sentence, format_corpus
from nerhpo.data.tags import GERMEVAL_TYPES, apply_family, family_types, label_list

SIMPLE = {f"{b}{s}": b for b in ("PER", "LOC", "ORG", "OTH") for s in ("deriv", "part")}


def tags_of(corpus):
    return [s.tags for s in corpus]


def test_cased_is_identity(germeval_dev):
    out = make_variant(germeval_dev, "cased", 1, "dev")
    assert format_corpus(out) == format_corpus(germeval_dev)


def test_uncased_lowercases_every_token(germeval_dev):
    out = make_variant(germeval_dev, "uncased", 1, "dev")
    assert all(t == t.lower() for s in out for t in s.tokens)
    assert [[t.lower() for t in s.tokens] for s in germeval_dev] == [s.tokens for s in out]
    assert tags_of(out) == tags_of(germeval_dev)


def test_ne_lower_changes_only_entity_tokens(germeval_dev):
    out = make_variant(germeval_dev, "ne-lower", 1, "dev")
    changed_entity = 0
    for before, after in zip(germeval_dev, out):
        assert before.tags == after.tags
        for tok, new, tag in zip(before.tokens, after.tokens, before.tags):
            if tag == "O":
                assert new == tok
            else:
                assert new == tok.lower()
                changed_entity += new != tok
    assert changed_entity > 1000  # entities in GermEval are mostly capitalised


@pytest.mark.parametrize(
    "variant, lower", [("uncased-cased-both", "uncased"), ("ne-lower-cased-both", "ne-lower")]
)
def test_both_doubles_sentences(germeval_dev, variant, lower):
    out = make_variant(germeval_dev, variant, 1, "dev")
    assert len(out) == 2 * len(germeval_dev)
    lowered = make_variant(germeval_dev, lower, 1, "dev")
    assert [s.tokens for s in out[0::2]] == [s.tokens for s in germeval_dev]
    assert [s.tokens for s in out[1::2]] == [s.tokens for s in lowered]
    assert tags_of(out[0::2]) == tags_of(out[1::2]) == tags_of(germeval_dev)


@pytest.mark.parametrize(
    "variant, lower", [("uncased-cased-mix", "uncased"), ("ne-lower-cased-mix", "ne-lower")]
)
@pytest.mark.parametrize("p", [0.5, 0.2])
def test_mix_proportion_and_determinism(germeval_dev, variant, lower, p):
    out = make_variant(germeval_dev, variant, 7, "dev", p)
    lowered = make_variant(germeval_dev, lower, 7, "dev")
    assert len(out) == len(germeval_dev)
    assert tags_of(out) == tags_of(germeval_dev)
    # every sentence is either the cased or the lowered version of itself
    is_lower = []
    for orig, low, got in zip(germeval_dev, lowered, out):
        assert got.tokens in (orig.tokens, low.tokens)
        if orig.tokens != low.tokens:
            is_lower.append(got.tokens == low.tokens)
    share = sum(is_lower) / len(is_lower)
    # binomial with n ~ 2000: 4 standard deviations is about 0.045 at p = 0.5
    assert abs(share - p) < 0.045
    again = make_variant(germeval_dev, variant, 7, "dev", p)
    assert format_corpus(again) == format_corpus(out)
    other_seed = make_variant(germeval_dev, variant, 8, "dev", p)
    assert format_corpus(other_seed) != format_corpus(out)
    other_split = make_variant(germeval_dev, variant, 7, "test", p)
    assert format_corpus(other_split) != format_corpus(out)


def test_input_is_not_modified(germeval_dev):
    before = format_corpus(germeval_dev)
    for variant in VARIANTS:
        make_variant(germeval_dev, variant, 3, "dev")
    assert format_corpus(germeval_dev) == before


def test_unknown_variant():
    with pytest.raises(ValueError, match="unknown casing variant 'title'"):
        make_variant([], "title", 0, "dev")


def test_upper_uppercases_every_token():
    s = Sentence(["Die", "Straße", "in", "Köln", "."], ["O", "O", "O", "B-LOC", "O"])
    (out,) = make_variant([s], "upper", 1, "dev")
    assert out.tokens == ["DIE", "STRASSE", "IN", "KÖLN", "."]
    assert out.tags == s.tags
    assert s.tokens[1] == "Straße"  # the input is kept


def test_upper_on_germeval(germeval_dev):
    out = make_variant(germeval_dev, "upper", 1, "dev")
    assert [s.tokens for s in out] == [[t.upper() for t in s.tokens] for s in germeval_dev]
    assert tags_of(out) == tags_of(germeval_dev)


def test_cased_lower_upper_triples_every_sentence():
    a = Sentence(["Anna", "lacht", "."], ["B-PER", "O", "O"])
    b = Sentence(["In", "Berlin"], ["O", "B-LOC"])
    for split in ("train", "dev", "test"):
        out = make_variant([a, b], "cased-lower-upper", 1, split)
        assert [s.tokens for s in out] == [
            ["Anna", "lacht", "."],
            ["anna", "lacht", "."],
            ["ANNA", "LACHT", "."],
            ["In", "Berlin"],
            ["in", "berlin"],
            ["IN", "BERLIN"],
        ]
        assert tags_of(out) == [a.tags] * 3 + [b.tags] * 3


def test_cased_lower_upper_on_germeval(germeval_dev):
    out = make_variant(germeval_dev, "cased-lower-upper", 1, "dev")
    assert len(out) == 3 * len(germeval_dev)
    assert format_corpus(out[0::3]) == format_corpus(germeval_dev)
    assert format_corpus(out[1::3]) == format_corpus(
        make_variant(germeval_dev, "uncased", 1, "dev")
    )
    assert format_corpus(out[2::3]) == format_corpus(make_variant(germeval_dev, "upper", 1, "dev"))


def test_families(germeval_dev):
    assert len(GERMEVAL_TYPES) == 12
    assert family_types({}) == sorted(GERMEVAL_TYPES)
    assert family_types(SIMPLE) == ["LOC", "ORG", "OTH", "PER"]
    simple = apply_family(germeval_dev, SIMPLE)
    assert {t[2:] for s in simple for t in s.tags if t != "O"} == {"LOC", "ORG", "OTH", "PER"}
    assert [len(s.tags) for s in simple] == [len(s.tags) for s in germeval_dev]
    # a family can drop a type: its tags become O, and following I- tags are not left dangling
    no_oth = apply_family(germeval_dev, {"OTH": "O"})
    assert not any(t.endswith("-OTH") for s in no_oth for t in s.tags)
    assert label_list(["PER", "LOC"]) == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
