"""Tests for the embedded demo corpus generator."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from nerhpo.data import demo
from nerhpo.data.corpus import Sentence, entity_types, format_corpus, read_corpus, repair_iob2
from nerhpo.data.demo import ENTITY_TYPES, NOUNS, generate_corpus


def spans(sentence: Sentence) -> list[tuple[str, str]]:
    """(type, entity string) for every outer entity of a sentence."""
    out: list[tuple[str, list[str]]] = []
    for token, tag in zip(sentence.tokens, sentence.tags):
        if tag.startswith("B-"):
            out.append((tag[2:], [token]))
        elif tag.startswith("I-"):
            out[-1][1].append(token)
    return [(etype, " ".join(words)) for etype, words in out]


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[Sentence]]:
    return generate_corpus(300, 100, 100, seed=7)


def test_exact_sizes_and_keys():
    c = generate_corpus(23, 11, 0, seed=1)
    assert list(c) == ["train", "dev", "test"]
    assert [len(c[k]) for k in c] == [23, 11, 0]


def test_same_seed_identical_different_seed_differs():
    a = generate_corpus(60, 20, 20, seed=3)
    b = generate_corpus(60, 20, 20, seed=3)
    other = generate_corpus(60, 20, 20, seed=4)
    assert a == b
    assert [s.tokens for s in a["train"]] != [s.tokens for s in other["train"]]
    assert [s.tokens for s in a["dev"]] != [s.tokens for s in other["dev"]]


def test_split_does_not_depend_on_other_split_sizes():
    assert generate_corpus(50, 20, 5, seed=2)["dev"] == generate_corpus(10, 20, 30, seed=2)["dev"]


def test_negative_size_rejected():
    with pytest.raises(ValueError, match="dev"):
        generate_corpus(10, -1, 10, seed=0)


def test_all_twelve_types_in_every_split(corpus):
    assert len(ENTITY_TYPES) == 12
    for split, sentences in corpus.items():
        assert entity_types(sentences) == set(ENTITY_TYPES), split


def test_all_types_even_in_tiny_splits():
    for seed in range(3):
        for split, sentences in generate_corpus(10, 10, 10, seed).items():
            assert entity_types(sentences) == set(ENTITY_TYPES), (seed, split)


def test_tags_are_valid_iob2_and_sentences_well_formed(corpus):
    for split, sentences in corpus.items():
        for i, s in enumerate(sentences, start=1):
            assert repair_iob2(s.tags)[1] == 0, s
            assert s.nested is not None and repair_iob2(s.nested)[1] == 0, s
            assert len(s.nested) == len(s.tokens)
            assert s.comment == f"demo:{split}:{i}"
            assert 6 <= len(s.tokens) <= 30, s.tokens
            assert all(t and not any(c.isspace() for c in t) for t in s.tokens)
            assert s.tokens[0][0].isupper() or not s.tokens[0][0].isalpha(), s.tokens


def test_dev_and_test_contain_entities_unseen_in_train(corpus):
    seen = {text for s in corpus["train"] for _, text in spans(s)}
    for split in ("dev", "test"):
        entities = [text for s in corpus[split] for _, text in spans(s)]
        unseen = sum(text not in seen for text in entities) / len(entities)
        assert unseen >= 0.3, (split, unseen)


def test_some_words_are_entities_in_one_sentence_and_o_in_another(corpus):
    as_entity, as_o = set(), set()
    for s in corpus["train"] + corpus["dev"] + corpus["test"]:
        for token, tag in zip(s.tokens, s.tags):
            (as_o if tag == "O" else as_entity).add(token)
    ambiguous = {"Bach", "Essen", "Mark", "Fischer", "Koch", "Stein", "Wolf", "Rose", "Halle"}
    assert as_entity & as_o & ambiguous


def test_nouns_are_capitalised_and_country_adjectives_are_not(corpus):
    sentences = corpus["train"] + corpus["dev"] + corpus["test"]
    tokens = Counter(t for s in sentences for t in s.tokens)
    nouns = {noun for noun, _ in NOUNS}
    assert not any(noun.lower() in tokens for noun in nouns)
    mid_sentence = {t for s in sentences for t in s.tokens[1:]}
    assert "Polizei" in mid_sentence or "Regierung" in mid_sentence
    assert len(nouns & mid_sentence) >= 20
    loc_deriv = [t for s in sentences for t, g in zip(s.tokens[1:], s.tags[1:]) if "LOCderiv" in g]
    assert any(t[0].islower() for t in loc_deriv)  # "deutsche"
    assert any(t[0].isupper() for t in loc_deriv)  # "Berliner"


def test_multi_token_entities_and_entity_free_sentences(corpus):
    train = corpus["train"]
    lengths = Counter(len(text.split()) > 1 for s in train for _, text in spans(s))
    assert lengths[True] >= 50
    empty = sum(not spans(s) for s in train) / len(train)
    assert 0.1 <= empty <= 0.35


def test_type_distribution_like_germeval():
    train = generate_corpus(1000, 0, 0, seed=0)["train"]
    counts = Counter(etype for s in train for etype, _ in spans(s))
    total = sum(counts.values())
    assert 1.0 <= total / len(train) <= 2.0
    assert {t for t, _ in counts.most_common(3)} == {"PER", "LOC", "ORG"}
    for etype in ENTITY_TYPES:
        assert counts[etype] / total >= 0.01, (etype, counts)


def test_round_trip_through_germeval_format(corpus, tmp_path: Path):
    for split, sentences in corpus.items():
        path = tmp_path / f"{split}.tsv"
        path.write_text(format_corpus(sentences), encoding="utf-8")
        back = read_corpus(path)
        assert [s.tokens for s in back] == [s.tokens for s in sentences]
        assert [s.tags for s in back] == [s.tags for s in sentences]
        assert [s.nested for s in back] == [s.nested for s in sentences]
        assert [s.comment for s in back] == [s.comment for s in sentences]


def test_pure_python_imports_only():
    tree = ast.parse(Path(demo.__file__).read_text(encoding="utf-8"))
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    modules |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert modules <= {"__future__", "random", "dataclasses", "nerhpo"}


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_very_small_splits_are_generated(n):
    """Fewer sentences than types: several types share a sentence, as many as the slots hold."""
    corpus = generate_corpus(n, n, n, 7)
    assert [len(corpus[s]) for s in ("train", "dev", "test")] == [n, n, n]
    assert all(any(t != "O" for t in s.tags) for s in corpus["train"])
