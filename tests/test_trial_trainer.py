"""The trainer's fast path is correct: padding/bucketing changes nothing, alignment is first-subword,
checkpoints continue a trial identically, and weights load only from safetensors."""

import tempfile

import pytest
import torch
from transformers import BertForTokenClassification

from nerhpo.data.corpus import Sentence
from nerhpo.training.model import (
    ModelLoadError,
    load_token_classifier,
    scratch_config,
    train_wordpiece,
)
from nerhpo.training.trainer import (
    IGNORE,
    TrialConfig,
    TrialTrainer,
    bucket_length,
    collate,
    encode,
    fit,
    length_batches,
    predict,
    use_bf16,
)

LABELS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
SIZE = dict(hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, max_length=32)


@pytest.fixture(scope="module")
def setup():
    sents = [
        Sentence(
            ["Anna", "Müller", "wohnt", "in", "Berlin", "."],
            ["B-PER", "I-PER", "O", "O", "B-LOC", "O"],
        ),
        Sentence(["Heute", "regnet", "es", "."], ["O", "O", "O", "O"]),
        Sentence(["Wort", "Hamburg"], ["O", "B-LOC"]),
    ] * 4
    tok = train_wordpiece([" ".join(s.tokens) for s in sents], 120)
    data = encode(sents, tok, {label: i for i, label in enumerate(LABELS)}, 32)
    return sents, tok, data


def fresh_trainer(tok, data, **cfg):
    torch.manual_seed(0)
    config = scratch_config(len(tok), SIZE)
    config.num_labels = len(LABELS)
    model = BertForTokenClassification(config)
    return TrialTrainer(
        model, data, data, TrialConfig(batch_size=4, epochs=3, **cfg), tok.pad_token_id, "cpu"
    )


def test_first_subword_carries_the_label(setup):
    _, tok, _ = setup
    sentence = Sentence(["Berlinregnet", "Hamburg"], ["O", "B-LOC"])  # unseen: split up
    data = encode([sentence], tok, {label: i for i, label in enumerate(LABELS)}, 32)
    ids, labels = data.input_ids[0], data.labels[0]
    assert labels[0] == IGNORE and labels[-1] == IGNORE  # [CLS], [SEP]
    word_ids = tok(sentence.tokens, is_split_into_words=True).word_ids()
    assert len(word_ids) > 4  # the long word is split into several subwords
    firsts = [
        i for i, w in enumerate(word_ids) if w is not None and (i == 0 or word_ids[i - 1] != w)
    ]
    assert [labels[i] for i in firsts] == [0, 1]
    assert all(labels[i] == IGNORE for i in range(len(ids)) if i not in firsts)


def test_truncated_words_are_counted_and_predicted_as_o(setup):
    sents, tok, _ = setup
    long = Sentence(["Berlin"] * 40, ["B-LOC"] * 40)
    enc = encode([long], tok, {label: i for i, label in enumerate(LABELS)}, 16)
    assert enc.truncated_words == 40 - 14
    trainer = fresh_trainer(tok, enc)
    pred = predict(trainer.model, enc, tok.pad_token_id)
    assert len(pred[0]) == 40 and pred[0][14:] == ["O"] * 26


def test_bucketed_and_padded_batches_match_single_sentences(setup):
    _, tok, data = setup
    trainer = fresh_trainer(tok, data)
    model = trainer.model.eval()
    for buckets in (None, (8, 16, 32)):
        batch = collate(data, list(range(len(data))), tok.pad_token_id, buckets)
        if buckets:
            assert batch["input_ids"].shape[1] in buckets
        with torch.no_grad():
            out = model(**batch)
            for i in range(3):
                n = len(data.input_ids[i])
                single = collate(data, [i], tok.pad_token_id)
                alone = model(**single)
                torch.testing.assert_close(out.logits[i, :n], alone.logits[0], atol=1e-5, rtol=1e-4)
    # the loss over a padded batch equals the token-weighted mean of the single-sentence losses
    with torch.no_grad():
        batch = collate(data, [0, 1, 2], tok.pad_token_id, (32,))
        total = model(**batch).loss
        parts = [
            (
                model(**collate(data, [i], tok.pad_token_id)).loss,
                sum(x != IGNORE for x in data.labels[i]),
            )
            for i in range(3)
        ]
        weighted = sum(loss * n for loss, n in parts) / sum(n for _, n in parts)
    torch.testing.assert_close(total, weighted, atol=1e-5, rtol=1e-4)


def test_bf16_padded_batches_match_single_sentences(setup):
    """The CPU/GPU bf16 path: padding must not change a sentence's logits beyond bf16 rounding."""
    _, tok, data = setup
    model = fresh_trainer(tok, data).model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(**collate(data, list(range(len(data))), tok.pad_token_id, (32,))).logits
        for i in range(3):
            n = len(data.input_ids[i])
            alone = model(**collate(data, [i], tok.pad_token_id)).logits
            torch.testing.assert_close(out[i, :n].float(), alone[0].float(), atol=0.05, rtol=0.05)


def test_precision_choice(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setenv("NERHPO_PRECISION", "fp32")
    assert use_bf16(cpu) is False
    monkeypatch.setenv("NERHPO_PRECISION", "bf16")
    assert use_bf16(cpu) is True
    monkeypatch.setenv("NERHPO_PRECISION", "auto")
    assert use_bf16(cpu) == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    monkeypatch.setenv("NERHPO_PRECISION", "half")
    with pytest.raises(ValueError, match="NERHPO_PRECISION='half'"):
        use_bf16(cpu)


def test_length_batches_sort_and_cover():
    lengths = [5, 1, 9, 3, 7, 2]
    fixed = length_batches(lengths, 2, None)
    assert fixed == [[1, 5], [3, 0], [4, 2]]
    import random

    shuffled = length_batches(lengths, 2, random.Random(0))
    assert sorted(i for b in shuffled for i in b) == list(range(6))
    assert bucket_length(20, (16, 32)) == 32 and bucket_length(20, None) == 20
    lengths = list(range(1, 41))
    mixed = length_batches(lengths, 4, random.Random(0), "random")
    assert sorted(i for b in mixed for i in b) == list(range(40))
    assert mixed != length_batches(lengths, 4, random.Random(1), "random")  # new order per seed
    spans = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in mixed]
    assert max(spans) > 3  # batches mix lengths (sorted chunks of 4 span at most 3)
    with pytest.raises(ValueError, match="random generator"):
        length_batches(lengths, 4, None, "random")


def test_padded_tokens_are_counted_per_batch_order(setup):
    """train_epoch reports the token positions it fed the model: with sorted batches exactly the
    chunks of the sorted lengths; random order pads more, and the real tokens stay the same."""
    _, tok, data = setup
    lengths = [len(x) for x in data.input_ids]
    expected = sum(len(b) * max(lengths[i] for i in b) for b in length_batches(lengths, 4, None))
    sorted_stats = fresh_trainer(tok, data).train_epoch()
    random_stats = fresh_trainer(tok, data, batch_order="random").train_epoch()
    assert sorted_stats["padded_tokens"] == expected
    assert random_stats["train_tokens"] == sorted_stats["train_tokens"] == sum(lengths)
    assert random_stats["padded_tokens"] > expected
    with pytest.raises(ValueError, match="batch_order 'shuffled'"):
        TrialConfig.from_dict({"batch_order": "shuffled"})


def test_checkpoint_continues_identically(setup):
    _, tok, data = setup
    a = fresh_trainer(tok, data)
    a.train_epoch()
    with tempfile.TemporaryDirectory() as d:
        a.save_checkpoint(d)
        a.train_epoch()
        b = fresh_trainer(tok, data)
        torch.manual_seed(123)  # the checkpoint must restore the RNG, whatever it is now
        b.load_checkpoint(d)
        b.train_epoch()
    assert (a.epoch, a.step) == (b.epoch, b.step)
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)


def test_fit_is_the_plain_epoch_loop(setup):
    """``fit`` (used by the trials, the baseline and re-training) trains and scores exactly as
    calling train_epoch and evaluate in turn, and stops at the configured epochs."""
    _, tok, data = setup
    plain = fresh_trainer(tok, data)
    expected = []
    for _ in range(3):
        plain.train_epoch()
        expected.append(plain.evaluate())
    epochs = list(fit(fresh_trainer(tok, data)))
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert [e.dev_f1 for e in epochs] == expected
    assert all(e.train_seconds > 0 and e.eval_seconds > 0 for e in epochs)
    assert epochs[0].stats["train_tokens"] > 0


def test_one_schedule_gives_both_trainings_their_former_rates():
    """Fine-tuning and pretraining share warmup_linear_decay; each gets the factors of the
    formula it had before, exactly (so the encoder and every table stay the same)."""
    from nerhpo.training.schedule import warmup_linear_decay

    for total in (1, 7, 30, 301):
        for warmup in {0, 1, total // 10, total // 3}:
            for step in range(total):
                tuned = (
                    (step + 1) / (warmup + 1)
                    if step < warmup
                    else max(0.0, (total - step) / max(1, total - warmup))
                )
                assert warmup_linear_decay(step, total, warmup, warmup + 1) == tuned
                if warmup >= 1:
                    pretrained = min(
                        (step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))
                    )
                    assert warmup_linear_decay(step, total, warmup, warmup) == pretrained


def test_nan_loss_raises(setup):
    _, tok, data = setup
    trainer = fresh_trainer(tok, data, learning_rate=1e12)
    with pytest.raises(FloatingPointError, match="loss is"):
        for _ in range(3):
            trainer.train_epoch()


def test_only_safetensors_are_loaded(tmp_path, setup):
    _, tok, data = setup
    config = scratch_config(len(tok), SIZE)
    model = BertForTokenClassification(config)
    (tmp_path / "bin_only").mkdir()
    config.save_pretrained(tmp_path / "bin_only")
    torch.save(model.state_dict(), tmp_path / "bin_only" / "pytorch_model.bin")
    with pytest.raises(
        ModelLoadError, match="no .safetensors weights .found only pytorch_model.bin"
    ):
        load_token_classifier(tmp_path / "bin_only", LABELS)
    model.bert.save_pretrained(tmp_path / "safe", safe_serialization=True)  # an encoder
    tok.save_pretrained(tmp_path / "safe")
    loaded = load_token_classifier(tmp_path / "safe", LABELS, attention_dropout=0.3)
    assert loaded.config.attention_probs_dropout_prob == 0.3
    assert loaded.num_labels == len(LABELS)


def test_masked_lm_loss_equals_the_models_own_loss():
    """Pretraining applies the vocabulary head to masked positions only: same loss value."""
    from transformers import BertConfig, BertForMaskedLM

    from nerhpo.training.model import masked_lm_loss

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=500,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    model = BertForMaskedLM(config).eval()
    ids = torch.randint(5, 500, (4, 12))
    labels = torch.full_like(ids, IGNORE)
    labels[:, ::5] = ids[:, ::5]
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    with torch.no_grad():
        torch.testing.assert_close(masked_lm_loss(model, batch), model(**batch).loss)


def test_a_finetuned_model_must_have_all_its_weights(tmp_path, setup, caplog):
    """A fresh head on an encoder is expected (the classifier is new); a fine-tuned model whose
    checkpoint lacks weights is refused, naming them, rather than run with random ones."""
    import json

    from nerhpo.training.model import load_finetuned

    _, tok, _ = setup
    config = scratch_config(len(tok), SIZE)
    config.num_labels = len(LABELS)
    model = BertForTokenClassification(config)
    model.bert.save_pretrained(tmp_path / "encoder", safe_serialization=True)
    with caplog.at_level("WARNING"):
        load_token_classifier(tmp_path / "encoder", LABELS)
    assert "missing" not in caplog.text  # only the new classifier is absent: no warning
    finetuned = tmp_path / "finetuned"
    model.save_pretrained(finetuned, safe_serialization=True)
    tok.save_pretrained(finetuned)
    (finetuned / "labels.json").write_text(json.dumps(LABELS))
    loaded, _, labels = load_finetuned(finetuned)
    assert labels == LABELS
    assert torch.equal(loaded.classifier.weight, model.classifier.weight)
    model.bert.save_pretrained(finetuned, safe_serialization=True)  # the head is gone
    with pytest.raises(ModelLoadError, match="weights missing from the checkpoint: classifier"):
        load_finetuned(finetuned)


def test_the_hpo_driver_does_not_import_torch():
    """The driver of every HPO job only reads the data and hands it to Ray's workers; torch
    costs it about 1.2 s of imports per job, so its modules must not pull torch in (what it
    runs is checked in test_hpo: test_the_hpo_driver_prepares_a_study_without_torch)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import nerhpo.search.runner, nerhpo.analysis.compare, nerhpo.analysis.sprint\n"
        "from nerhpo.training.encoding import encode\n"
        "from nerhpo.training.model import load_tokenizer\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
