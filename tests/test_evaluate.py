"""Evaluation of an exported model: seqeval scores per variant x split, truncation, scripts."""

import json
import subprocess
import sys

import pytest
import yaml
from project_copy import ROOT, tiny_params

from nerhpo.data.corpus import Sentence, write_corpus
from nerhpo.training import evaluate

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SENTENCES = [
    Sentence(["Angela", "Merkel", "besucht", "Berlin", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"]),
    Sentence(["Olaf", "wohnt", "in", "Hamburg", "."], ["B-PER", "O", "O", "B-LOC", "O"]),
    Sentence(["Der", "Zug", "fährt", "nach", "Köln", "."], ["O", "O", "O", "O", "B-LOC", "O"]),
    Sentence(["Anna", "Schmidt", "lacht", "."], ["B-PER", "I-PER", "O", "O"]),
]
WORDS = sorted({w for s in SENTENCES for w in s.tokens})
VARIANTS = ["cased", "uncased"]
# the truecaser's training text: "Anna", "Schmidt" and "lacht" (dev) are not in it
TRAIN = [
    SENTENCES[0],
    SENTENCES[1],
    Sentence(["Heute", "fährt", "der", "Zug", "nach", "Köln", "."], ["O"] * 5 + ["B-LOC", "O"]),
]


def lowercased(sentences):
    return [Sentence([w.lower() for w in s.tokens], list(s.tags)) for s in sentences]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny, untrained BERT token classifier exported like the HPO stage does."""
    import torch
    from transformers import BertForTokenClassification

    from nerhpo.training.model import scratch_config, train_wordpiece

    torch.manual_seed(0)
    texts = [" ".join(s.tokens) for s in SENTENCES] + [" ".join(WORDS).lower()]
    tokenizer = train_wordpiece(texts, vocab_size=5000)
    size = {
        "hidden_size": 32,
        "num_layers": 1,
        "num_heads": 2,
        "intermediate_size": 64,
        "max_length": 64,
    }
    config = scratch_config(len(tokenizer), size)
    config.num_labels = len(LABELS)
    config.id2label = dict(enumerate(LABELS))
    config.label2id = {label: i for i, label in enumerate(LABELS)}
    out = tmp_path_factory.mktemp("model")
    BertForTokenClassification(config).save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / "labels.json").write_text(json.dumps(LABELS))
    return out


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    for variant, sentences in (("cased", SENTENCES), ("uncased", lowercased(SENTENCES))):
        write_corpus(root / "original" / variant / "dev.tsv", sentences)
        write_corpus(root / "original" / variant / "test.tsv", sentences[:3])
    write_corpus(root / "original" / "cased" / "train.tsv", TRAIN)
    return root


def test_score_hand_checked():
    result = evaluate.score([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
    assert result["precision"] == 1.0
    assert result["recall"] == 0.5
    assert result["f1"] == pytest.approx(2 / 3)
    assert result["per_type"] == {
        "LOC": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
        "PER": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
    }
    # conlleval-compatible default mode: an I- tag after O starts an entity (strict mode would not)
    assert evaluate.score([["B-PER", "I-PER"]], [["I-PER", "I-PER"]])["f1"] == 1.0
    # no entities anywhere: zeros, no crash
    assert evaluate.score([["O"]], [["O"]])["f1"] == 0.0


def test_every_variant_and_split_scored_with_one_model_load(model_dir, data_root, monkeypatch):
    calls = []
    real = evaluate.load_finetuned

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(evaluate, "load_finetuned", counting)
    result = evaluate.evaluate_model(
        model_dir, data_root, "original", VARIANTS, 32, train_variant="cased", algorithm="asha"
    )
    assert len(calls) == 1
    assert result["seqeval_mode"].startswith("default (conlleval-compatible")
    assert (result["family"], result["train_variant"], result["algorithm"]) == (
        "original",
        "cased",
        "asha",
    )
    assert set(result["scores"]) == {"dev", "test"}
    for split, n in (("dev", 4), ("test", 3)):
        assert set(result["scores"][split]) == set(VARIANTS)
        for variant in VARIANTS:
            s = result["scores"][split][variant]
            assert s["sentences"] == n
            assert s["words"] == sum(len(x.tokens) for x in SENTENCES[:n])
            assert s["truncated_words"] == 0
            for key in ("precision", "recall", "f1"):
                assert type(s[key]) is float and 0.0 <= s[key] <= 1.0
            assert {"PER", "LOC"} <= set(s["per_type"])
            for row in s["per_type"].values():
                assert all(0.0 <= row[k] <= 1.0 for k in ("precision", "recall", "f1"))
                assert type(row["support"]) is int
    assert result["scores"]["dev"]["cased"]["per_type"]["PER"]["support"] == 3
    assert result["scores"]["dev"]["cased"]["per_type"]["LOC"]["support"] == 3
    json.dumps(result, allow_nan=False)  # plain Python numbers only
    assert isinstance(result["seconds"], float)


def test_truncated_words_are_counted(model_dir, tmp_path):
    words = (WORDS * 3)[:20]
    long = Sentence(words, ["B-LOC"] + ["O"] * 19)
    write_corpus(tmp_path / "f" / "cased" / "dev.tsv", [long, SENTENCES[0]])
    result = evaluate.evaluate_model(model_dir, tmp_path, "f", ["cased"], 8, splits=("dev",))
    s = result["scores"]["dev"]["cased"]
    assert s["words"] == 25
    # every word is one subword in this vocabulary: [CLS] + 6 words + [SEP] fit, 14 are cut
    assert s["truncated_words"] == 14
    assert 0.0 <= s["f1"] <= 1.0


def test_labels_unknown_to_the_model_are_scored_not_fatal(model_dir, tmp_path):
    sentences = SENTENCES + [Sentence(["Siemens", "wächst", "."], ["B-ORG", "O", "O"])]
    write_corpus(tmp_path / "f" / "cased" / "test.tsv", sentences)
    result = evaluate.evaluate_model(model_dir, tmp_path, "f", ["cased"], 32, splits=("test",))
    s = result["scores"]["test"]["cased"]
    assert s["unknown_label_words"] == 1
    org = s["per_type"]["ORG"]
    assert org["support"] == 1 and org["recall"] == 0.0  # the model cannot predict ORG


def script(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "workflow" / "scripts" / "evaluate.py"), *args],
        capture_output=True,
        text=True,
    )


def only_variants(node, names):
    """Every variant named in a params block (a ``variant`` or ``train_variants`` key) made
    one of ``names``, so that params with fewer variants stay valid as blocks are added."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "variant" and value not in names:
                node[key] = names[0]
            elif key == "train_variants":
                node[key] = [v for v in value if v in names] or names[:1]
            else:
                only_variants(value, names)


@pytest.fixture
def params_file(tmp_path):
    # two casing variants, so every variant named elsewhere in params must be one of them
    params = tiny_params(variants={"names": VARIANTS}, model={"max_length": 32})
    only_variants(params, VARIANTS)
    params["hpo"]["train_variants"] = VARIANTS
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_script_help():
    proc = script("--help")
    assert proc.returncode == 0
    for flag in ("--params", "--family", "--variant", "--algorithm", "--model", "--data-root"):
        assert flag in proc.stdout
    assert "--out" in proc.stdout and "--threads" in proc.stdout


def test_script_missing_model_is_one_line_error(tmp_path, params_file, data_root):
    out = tmp_path / "eval.json"
    proc = script(
        "--params", str(params_file), "--family", "original", "--variant", "cased",
        "--algorithm", "asha", "--model", str(tmp_path / "nope"), "--data-root", str(data_root),
        "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nope'}: model directory not found (run the HPO stage first)"
    ]
    assert not out.exists()


def test_script_writes_json(tmp_path, params_file, model_dir, data_root):
    out = tmp_path / "eval" / "asha.json"
    errors = tmp_path / "errors" / "asha.json"
    proc = script(
        "--params", str(params_file), "--family", "original", "--variant", "uncased",
        "--algorithm", "asha", "--model", str(model_dir), "--data-root", str(data_root),
        "--out", str(out), "--errors", str(errors), "--threads", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["train_variant"] == "uncased" and result["algorithm"] == "asha"
    assert set(result["scores"]["dev"]) == set(VARIANTS)
    assert "routes" not in result  # the truecased route is for cased-trained models only
    assert not list(out.parent.glob(".*.tmp"))
    found = json.loads(errors.read_text())
    assert (found["family"], found["train_variant"], found["algorithm"]) == (
        "original",
        "uncased",
        "asha",
    )
    assert found["splits"]["dev"]["by_type"]["PER"]["gold"] == 3


def test_script_cased_model_writes_route_and_errors(tmp_path, params_file, model_dir, data_root):
    out, errors = tmp_path / "eval.json", tmp_path / "errors.json"
    proc = script(
        "--params", str(params_file), "--family", "original", "--variant", "cased",
        "--algorithm", "bohb", "--model", str(model_dir), "--data-root", str(data_root),
        "--out", str(out), "--errors", str(errors),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    # the existing keys, and one more for the route
    assert set(result) == {
        "family",
        "train_variant",
        "algorithm",
        "model_dir",
        "seqeval_mode",
        "max_length",
        "labels",
        "scores",
        "routes",
        "seconds",
    }
    assert list(result["routes"]) == ["uncased+truecase"]
    assert json.loads(errors.read_text())["splits"]["test"]["sentences"] == 3


def test_truecased_route_of_a_cased_model(model_dir, data_root, tmp_path):
    """The route scores the uncased splits truecased, exactly as the truecased file would."""
    ev = evaluate.evaluate_all(
        model_dir, data_root, "original", VARIANTS, 32, train_variant="cased", algorithm="asha"
    )
    route = ev.result["routes"]["uncased+truecase"]
    assert set(ev.result["scores"]["dev"]) == set(VARIANTS)  # the route is not a variant
    assert route["input"] == "uncased"
    assert route["truecaser"] == {
        "trained_on": str(data_root / "original" / "cased" / "train.tsv"),
        "fallback": "suffix",
        "known_tokens": 15,
    }
    # dev truecased: all right but "schmidt" (unseen; "anna" is capitalised as the first word)
    assert route["token_accuracy"]["dev"] == {
        "sentences": 4,
        "tokens": 20,
        "accuracy": 19 / 20,
        "capitalised_tokens": 10,
        "capitalised_accuracy": 9 / 10,
        "unseen_tokens": 3,
        "unseen_accuracy": 2 / 3,
    }
    assert route["token_accuracy"]["test"]["accuracy"] == 1.0
    # the same scores as the cased-trained model on a file holding the truecased text
    truecased = SENTENCES[:3] + [Sentence(["Anna", "schmidt", "lacht", "."], SENTENCES[3].tags)]
    write_corpus(tmp_path / "dev.tsv", truecased)
    write_corpus(tmp_path / "test.tsv", SENTENCES[:3])
    model, tokenizer, labels = evaluate.load_finetuned(model_dir)
    model.eval()
    label2id = {label: i for i, label in enumerate(labels)}
    for split in ("dev", "test"):
        direct = evaluate.evaluate_split(
            model, tokenizer, label2id, tmp_path / f"{split}.tsv", 32, 128
        )
        got = route["scores"][split]
        for key in ("precision", "recall", "f1", "per_type", "sentences", "words"):
            assert got[key] == direct[key], (split, key)
    # test's truecased text is the cased text: the route equals the cased score
    assert route["scores"]["test"]["f1"] == ev.result["scores"]["test"]["cased"]["f1"]
    json.dumps(ev.result, allow_nan=False)


def test_no_route_unless_cased_and_uncased(model_dir, data_root):
    ev = evaluate.evaluate_all(
        model_dir, data_root, "original", ["cased"], 32, train_variant="cased"
    )
    assert "routes" not in ev.result
    assert ev.errors == {
        "family": "original",
        "train_variant": "cased",
        "algorithm": None,
        "skipped": "needs both 'cased' and 'uncased' among the evaluated variants",
    }
    ev = evaluate.evaluate_all(
        model_dir, data_root, "original", VARIANTS, 32, train_variant="uncased"
    )
    assert "routes" not in ev.result and "splits" in ev.errors


def test_errors_match_the_predictions(model_dir, data_root):
    """The error file is casing_errors of the cased and uncased predictions of the same model."""
    from nerhpo.training.casing_errors import casing_errors

    ev = evaluate.evaluate_all(
        model_dir, data_root, "original", VARIANTS, 32, train_variant="cased"
    )
    model, tokenizer, labels = evaluate.load_finetuned(model_dir)
    model.eval()
    label2id = {label: i for i, label in enumerate(labels)}
    assert ev.errors["compared"] == ["cased", "uncased"]
    for split in ("dev", "test"):
        c, u = (
            evaluate.predict_split(
                model, tokenizer, label2id, data_root / "original" / v / f"{split}.tsv", 32, 128
            )
            for v in VARIANTS
        )
        expected = casing_errors(c.sentences, c.pred, u.sentences, u.pred)
        assert ev.errors["splits"][split] == expected
    dev = ev.errors["splits"]["dev"]["by_type"]
    assert {t: c["gold"] for t, c in dev.items()} == {"LOC": 3, "PER": 3}
    for c in dev.values():
        assert c["missed_uncased"] <= c["found_cased"] <= c["gold"]


def test_misaligned_uncased_copy_fails_loudly(model_dir, tmp_path):
    write_corpus(tmp_path / "f" / "cased" / "dev.tsv", SENTENCES)
    shuffled = lowercased(SENTENCES[1:] + SENTENCES[:1])
    write_corpus(tmp_path / "f" / "uncased" / "dev.tsv", shuffled)
    with pytest.raises(ValueError, match="uncased/dev.tsv: sentence 1 differs from the cased"):
        evaluate.evaluate_all(model_dir, tmp_path, "f", VARIANTS, 32, splits=("dev",))
