"""Casing error analysis (per model and aggregated) and the truecased-route rows, by hand."""

import json

import pytest

from nerhpo.analysis import errors, truecase_rows
from nerhpo.core import layout
from nerhpo.core.result_files import ResultFileError
from nerhpo.data.corpus import Sentence
from nerhpo.training.casing_errors import casing_errors, check_aligned

CASED = [
    Sentence(["Angela", "Merkel", "in", "Berlin"], ["B-PER", "I-PER", "O", "B-LOC"]),
    Sentence(["Olaf", "in", "Berlin", "."], ["B-PER", "O", "B-LOC", "O"]),
    Sentence(["Der", "BND", "."], ["O", "B-ORG", "O"]),
]
UNCASED = [Sentence([t.lower() for t in s.tokens], list(s.tags)) for s in CASED]
PRED_CASED = [
    ["B-PER", "I-PER", "O", "B-LOC"],  # both right
    ["B-PER", "O", "B-LOC", "O"],  # both right
    ["O", "B-ORG", "O"],  # right
]
PRED_UNCASED = [
    ["B-PER", "O", "O", "O"],  # Angela Merkel: span too short (missed); Berlin missed
    ["B-PER", "O", "B-LOC", "O"],  # both still found
    ["O", "B-LOC", "O"],  # BND: wrong type (missed)
]


def test_casing_errors_by_hand():
    out = casing_errors(CASED, PRED_CASED, UNCASED, PRED_UNCASED)
    assert out == {
        "sentences": 3,
        "by_type": {
            "LOC": {"gold": 2, "found_cased": 2, "found_uncased": 1, "missed_uncased": 1},
            "ORG": {"gold": 1, "found_cased": 1, "found_uncased": 0, "missed_uncased": 1},
            "PER": {"gold": 2, "found_cased": 2, "found_uncased": 1, "missed_uncased": 1},
        },
        "missed": [
            {"type": "LOC", "text": "Berlin", "count": 1},
            {"type": "ORG", "text": "BND", "count": 1},
            {"type": "PER", "text": "Angela Merkel", "count": 1},
        ],
    }


def test_an_entity_found_only_on_uncased_is_no_miss():
    pred_cased = [["O", "O", "O", "O"]] + PRED_CASED[1:]
    out = casing_errors(CASED, pred_cased, UNCASED, PRED_CASED)
    assert out["by_type"]["PER"] == {
        "gold": 2,
        "found_cased": 1,
        "found_uncased": 2,
        "missed_uncased": 0,
    }
    assert out["missed"] == []


def test_counts_and_order_of_repeated_misses():
    cased = [Sentence(["Köln"], ["B-LOC"]), Sentence(["Bonn"], ["B-LOC"])] * 2
    cased += [Sentence(["Köln"], ["B-LOC"])]
    uncased = [Sentence([s.tokens[0].lower()], ["B-LOC"]) for s in cased]
    out = casing_errors(cased, [["B-LOC"]] * 5, uncased, [["O"]] * 5)
    assert out["missed"] == [
        {"type": "LOC", "text": "Köln", "count": 3},
        {"type": "LOC", "text": "Bonn", "count": 2},
    ]


@pytest.mark.parametrize(
    "uncased, message",
    [
        (UNCASED[:2], "2 sentences, the cased copy has 3"),
        (UNCASED[1:] + UNCASED[:1], "sentence 1 differs from the cased copy"),
        (
            [Sentence(["angela", "merkel", "in", "bonn"], CASED[0].tags), *UNCASED[1:]],
            "sentence 1, token 4: 'bonn' is not the cased 'Berlin' lowercased",
        ),
        (
            [Sentence(UNCASED[0].tokens, ["O"] * 4), *UNCASED[1:]],
            "sentence 1 differs from the cased copy in length or tags",
        ),
    ],
)
def test_misaligned_copies_fail_naming_the_sentence(uncased, message):
    with pytest.raises(ValueError, match=message):
        check_aligned(CASED, uncased, "x/uncased/dev.tsv")
    with pytest.raises(ValueError, match="x/uncased/dev.tsv: "):
        casing_errors(CASED, PRED_CASED, uncased, PRED_UNCASED, "x/uncased/dev.tsv")


# -- aggregation over models ------------------------------------------------------------------
def error_file(family, algorithm, split_data):
    return {
        "family": family,
        "train_variant": "cased",
        "algorithm": algorithm,
        "compared": ["cased", "uncased"],
        "splits": split_data,
    }


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def results(tmp_path):
    one = casing_errors(CASED, PRED_CASED, UNCASED, PRED_UNCASED)
    # a second model that misses only Berlin (twice, both sentences)
    other = casing_errors(
        CASED,
        PRED_CASED,
        UNCASED,
        [["B-PER", "I-PER", "O", "O"], ["B-PER", "O", "O", "O"]] + [PRED_CASED[2]],
    )
    for algorithm, data in (("asha", one), ("bohb", other)):
        fields = {"family": "original", "variant": "cased", "algorithm": algorithm}
        write(
            layout.under(tmp_path, layout.ERRORS_FILE, **fields),
            error_file("original", algorithm, {"dev": data, "test": data}),
        )
    return tmp_path


PARAMS = {
    "hpo": {"families": ["original"], "train_variants": ["cased"], "algorithms": ["asha", "bohb"]}
}


def test_errors_summary_sums_over_models(results):
    summary = errors.errors_summary(results, PARAMS)
    family = summary["original"]
    assert family["models"] == ["asha", "bohb"] and family["skipped"] == []
    dev = family["splits"]["dev"]
    assert dev["by_type"] == {
        "LOC": {"gold": 4, "found_cased": 4, "missed_uncased": 3, "rate": 0.75},
        "ORG": {"gold": 2, "found_cased": 2, "missed_uncased": 1, "rate": 0.5},
        "PER": {"gold": 4, "found_cased": 4, "missed_uncased": 1, "rate": 0.25},
    }
    assert dev["missed_total"] == 5
    assert dev["top_missed"] == [
        {"type": "LOC", "text": "Berlin", "count": 3, "models": 2},
        {"type": "ORG", "text": "BND", "count": 1, "models": 1},
        {"type": "PER", "text": "Angela Merkel", "count": 1, "models": 1},
    ]
    top1 = errors.aggregate_errors(
        errors.load_errors(results, ["original"], ["asha", "bohb"]), top=1
    )
    assert top1["original"]["splits"]["test"]["top_missed"] == dev["top_missed"][:1]
    json.dumps(summary, allow_nan=False)


def test_errors_markdown(results):
    text = errors.errors_markdown(errors.errors_summary(results, PARAMS))
    assert "**original** (asha, bohb), by type:" in text
    assert "| LOC    |      4 |                4 |                   3 | 0.7500 |" in text
    assert "| Berlin                | LOC    |        3 |        2 |" in text
    assert "the 3 most often missed entities" in text
    assert errors.errors_markdown({}) == "No models trained on `cased`, so no error analysis."


def test_errors_without_cased_models_or_files(results, tmp_path):
    assert (
        errors.errors_summary(results, {"hpo": {**PARAMS["hpo"], "train_variants": ["uncased"]}})
        == {}
    )
    with pytest.raises(
        ResultFileError, match="missing input file .*errors/original/cased/pbt.json"
    ):
        errors.errors_summary(results, {"hpo": {**PARAMS["hpo"], "algorithms": ["pbt"]}})
    skipped = {"family": "original", "train_variant": "cased", "algorithm": "asha", "skipped": "x"}
    out = errors.aggregate_errors([skipped])
    assert out == {"original": {"models": [], "skipped": ["asha"], "splits": {}}}
    assert "**original**: no error analysis (skipped for asha)." in errors.errors_markdown(out)


# -- the truecased route's rows ---------------------------------------------------------------
def eval_file(cased, uncased, truecased, accuracy):
    scores = {
        split: {"cased": {"f1": cased[i]}, "uncased": {"f1": uncased[i]}}
        for i, split in enumerate(("dev", "test"))
    }
    route = {
        "scores": {"dev": {"f1": truecased[0]}, "test": {"f1": truecased[1]}},
        "token_accuracy": {"dev": {"accuracy": accuracy}, "test": {"accuracy": 0.9}},
    }
    return {"scores": scores, "routes": {"uncased+truecase": route}}


def test_truecase_rows_and_markdown(tmp_path):
    for algorithm, data in (
        ("asha", eval_file((0.9, 0.8), (0.4, 0.3), (0.8, 0.7), 0.95)),
        ("bohb", {"scores": {"dev": {"cased": {"f1": 0.5}, "uncased": {"f1": 0.5}}}}),
    ):
        fields = {"family": "simple", "variant": "cased", "algorithm": algorithm}
        write(layout.under(tmp_path, layout.EVAL_FILE, **fields), data)
    rows = truecase_rows.load_truecase_rows(tmp_path, ["simple"], ["asha", "bohb"])
    assert rows[0] == {
        "family": "simple",
        "algorithm": "asha",
        "dev_cased": 0.9,
        "dev_uncased": 0.4,
        "dev_truecased": 0.8,
        "dev_gap_closed": pytest.approx(0.8),
        "dev_token_accuracy": 0.95,
        "test_cased": 0.8,
        "test_uncased": 0.3,
        "test_truecased": 0.7,
        "test_gap_closed": pytest.approx(0.8),
        "test_token_accuracy": 0.9,
    }
    # no route (an older file) and no drop: empty cells, no crash
    assert rows[1]["dev_truecased"] is None and rows[1]["dev_gap_closed"] is None
    assert rows[1]["test_cased"] is None
    text = truecase_rows.truecase_markdown(rows)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| Tag Family"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "Tag Family",
        "HPO Alg",
        "dev cased",
        "dev uncased",
        "dev uncased+truecase",
        "dev gap closed",
        "test cased",
        "test uncased",
        "test uncased+truecase",
        "test gap closed",
        "truecaser token acc. (dev)",
    ]
    asha = next(line for line in lines if "| asha" in line)
    assert [c.strip() for c in asha.strip("|").split("|")] == [
        "simple",
        "asha",
        "0.9000",
        "0.4000",
        "0.8000",
        "0.8000",
        "0.8000",
        "0.3000",
        "0.7000",
        "0.8000",
        "0.9500",
    ]
    assert "lowercased then truecased 0.8293 (gap closed 0.8358)" in text
    assert "Mayhew" not in truecase_rows.truecase_markdown(rows, literature=False)
    with pytest.raises(ResultFileError, match="missing input file"):
        truecase_rows.load_truecase_rows(tmp_path, ["original"], ["asha"])
