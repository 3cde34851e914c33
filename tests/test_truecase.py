"""The statistical truecaser: most frequent forms, the sentence start, unseen words, accuracy."""

from collections import Counter

import pytest

from nerhpo.data.truecase import Truecaser, first_word, suffix_votes, token_accuracy

TRAIN = [
    ["Die", "Polizei", "in", "Berlin", "meldet", "die", "Festnahme", "."],
    ["In", "der", "Zeitung", "steht", "die", "Meldung", "der", "EU", "."],
    ["Der", "Bericht", "der", "Regierung", "kam", "aus", "Berlin", "."],
    ["Wir", "lesen", "die", "Meldung", "in", "der", "Zeitung", "."],
    ['"', "Zeitung", '"', "sagt", "sie", "."],
    ["Sie", "kam", "."],
]


@pytest.fixture
def tc():
    return Truecaser.train(TRAIN)


def test_most_frequent_form_counted_away_from_the_sentence_start(tc):
    # "Die"/"In"/"Der"/"Sie" open sentences: their inner forms win
    assert tc.forms["die"] == "die"  # 3 inner "die", 1 initial "Die"
    assert tc.forms["in"] == "in"
    assert tc.forms["der"] == "der"
    assert tc.forms["sie"] == "sie"
    assert tc.forms["berlin"] == "Berlin"
    assert tc.forms["eu"] == "EU"
    # only ever seen first in a sentence: its form there
    assert tc.forms["wir"] == "Wir"
    assert tc.forms["polizei"] == "Polizei"
    # after a quote, the first word is still the sentence start
    assert first_word(['"', "Zeitung", '"']) == 1
    assert first_word(['"', "."]) is None
    assert first_word(["3", "Männer"]) is None  # a number opens it: nothing to capitalise
    assert len(tc.forms) == 21  # word types, punctuation included


def test_truecase_a_lowercased_sentence(tc):
    got = tc.truecase(["die", "zeitung", "der", "eu", "kam", "aus", "berlin", "."])
    assert got == ["Die", "Zeitung", "der", "EU", "kam", "aus", "Berlin", "."]
    assert tc.truecase(['"', "sie", "kam", '"']) == ['"', "Sie", "kam", '"']
    assert tc.truecase([]) == []
    assert tc.truecase([".", "!"]) == [".", "!"]
    # cased or mixed input: the same forms
    assert tc.truecase(["DIE", "ZEITUNG"]) == ["Die", "Zeitung"]


def test_ties_go_to_the_first_form_in_sorted_order():
    tc = Truecaser.train([["x", "Bonn", "bonn"], ["x", "bonn", "Bonn"]])
    assert tc.forms["bonn"] == "Bonn"  # 2 : 2, "B" sorts before "b"
    tc = Truecaser.train([["x", "bonn", "Bonn", "bonn"]])
    assert tc.forms["bonn"] == "bonn"
    again = Truecaser.train([["x", "bonn", "Bonn", "bonn"]])
    assert again.to_dict() == tc.to_dict()


def test_unseen_words_capitalised_by_their_ending():
    nouns = ["Zeitung", "Meldung", "Regierung", "Festnahme", "Ordnung", "Leitung", "Wohnung"]
    verbs = ["gehen", "sehen", "lesen", "geben", "nehmen"]
    train = [["x", *nouns, *verbs]]
    votes = suffix_votes({w.lower(): Counter([w]) for w in nouns + verbs})
    assert votes["ung"] is True and votes["ng"] is True  # 6 capitalised types of 6
    assert votes["en"] is False  # 5 lowercase types (-en), none capitalised
    assert "hme" not in votes  # one type only: too few to decide
    tc = Truecaser.train(train)
    assert tc.truecase(["x", "heizung", "laufen", "xyz"]) == ["X", "Heizung", "laufen", "xyz"]
    plain = Truecaser.train(train, fallback="lower")
    assert plain.truecase(["x", "heizung", "laufen"]) == ["X", "heizung", "laufen"]
    with pytest.raises(ValueError, match="unknown truecaser fallback 'upper'"):
        Truecaser.train(train, fallback="upper")


def test_round_trip(tc):
    again = Truecaser.from_dict(tc.to_dict())
    assert again == tc


def test_token_accuracy_by_hand(tc):
    cased = [["Die", "Zeitung", "aus", "Hamburg", "."], ["Sie", "kam", "."]]
    lowered = [[t.lower() for t in s] for s in cased]
    # truecased: Die Zeitung aus hamburg . / Sie kam .  -> 7 of 8 tokens right
    acc = token_accuracy(tc, cased, lowered)
    assert acc == {
        "sentences": 2,
        "tokens": 8,
        "accuracy": 7 / 8,
        "capitalised_tokens": 4,
        "capitalised_accuracy": 3 / 4,
        "unseen_tokens": 1,
        "unseen_accuracy": 0.0,
    }
    with pytest.raises(ValueError, match="sentence 1: the lowercased copy is not the cased"):
        token_accuracy(tc, cased, [["die", "presse", "aus", "hamburg", "."], lowered[1]])
    with pytest.raises(ValueError, match="2 cased sentences but 1 lowercased"):
        token_accuracy(tc, cased, lowered[:1])


def test_on_germeval_dev_trained_on_test(germeval_dir):
    """Real text: trained on GermEval's test split, the lowercased dev split truecased."""
    from nerhpo.data.corpus import read_corpus

    train = read_corpus(germeval_dir / "NER-de-test.tsv")
    dev = read_corpus(germeval_dir / "NER-de-dev.tsv")
    cased = [s.tokens for s in dev]
    lowered = [[t.lower() for t in s] for s in cased]
    suffix = token_accuracy(Truecaser.train(s.tokens for s in train), cased, lowered)
    lower = token_accuracy(Truecaser.train((s.tokens for s in train), "lower"), cased, lowered)
    assert suffix["tokens"] == lower["tokens"] == 41653
    assert suffix["accuracy"] == pytest.approx(0.9416, abs=1e-4)
    assert lower["accuracy"] == pytest.approx(0.8585, abs=1e-4)
    assert suffix["unseen_tokens"] == 7616
    assert suffix["unseen_accuracy"] == pytest.approx(0.7688, abs=1e-4)
