"""Every common encoder family is tuned correctly (issue 18, points 3 and 4): BERT, ELECTRA,
RoBERTa, XLM-R and DistilBERT, each a tiny model with random weights and a hand-made tokenizer
of its kind (WordPiece, byte-level BPE, SentencePiece-style Unigram), saved locally.

Checked per family: it loads through nerhpo's loaders, the dropout hyperparameters reach the
config and the modules (at build and after PBT's in-place change) and the forward pass uses them,
one epoch of nerhpo's fit runs, and the exported model is scored by nerhpo and gives the same
entities through plain transformers' pipeline. The word/subword alignment is checked against
labels computed by hand. One short Ray Tune study on a DistilBERT (slow) ends the file.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from nerhpo.data.corpus import Sentence, write_corpus
from nerhpo.training.evaluate import evaluate_model
from nerhpo.training.families import dropout_layout

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
WORDS = ["Angela", "Merkel", "besucht", "das", "Bundeskanzleramt", "in", "Berlin", "."]
TAGS = ["B-PER", "I-PER", "O", "O", "B-ORG", "O", "B-LOC", "O"]
# the one multi-piece word, and how each tokenizer kind splits it
SPLIT = {"Bundeskanzleramt": ("Bundes", "kanzler", "amt")}
# hand-computed: the word's label on its first subword, -100 on the others and on specials
#              <s>   Angela Merkel besucht das Bundes kanzler amt  in  Berlin  .  </s>
HAND_LABELS = [-100, 1, 2, 0, 0, 5, -100, -100, 0, 3, 0, -100]
HAND_TOKENS = {
    "wordpiece": ["[CLS]", "Angela", "Merkel", "besucht", "das", "Bundes", "##kanzler", "##amt"]
    + ["in", "Berlin", ".", "[SEP]"],
    "bpe": ["<s>", "ĠAngela", "ĠMerkel", "Ġbesucht", "Ġdas", "ĠBundes", "kanzler", "amt"]
    + ["Ġin", "ĠBerlin", "Ġ.", "</s>"],
    "unigram": ["<s>", "▁Angela", "▁Merkel", "▁besucht", "▁das", "▁Bundes", "kanzler", "amt"]
    + ["▁in", "▁Berlin", "▁.", "</s>"],
}
PERSONS = [("Angela", "Merkel"), ("Hans", "Müller"), ("Olaf", "Scholz"), ("Anna", "Schmidt")]
PLACES = ["Berlin", "Hamburg", "München", "Köln"]
ORGS = ["Bundeskanzleramt", "Bundesregierung", "Siemens"]


def corpus(n: int, offset: int = 0) -> list[Sentence]:
    """Short German sentences with persons, places and organisations, cycled deterministically."""
    out = []
    for i in range(offset, offset + n):
        first, last = PERSONS[i % len(PERSONS)]
        place, org = PLACES[i % len(PLACES)], ORGS[i % len(ORGS)]
        if i % 2:
            words = [first, last, "besucht", "das", org, "in", place, "."]
            tags = ["B-PER", "I-PER", "O", "O", "B-ORG", "O", "B-LOC", "O"]
        else:
            words = ["In", place, "wohnt", first, last, "."]
            tags = ["O", "B-LOC", "O", "B-PER", "I-PER", "O"]
        out.append(Sentence(words, tags))
    return out


def lexicon() -> list[str]:
    words = {w for s in corpus(12) for w in s.tokens} | set(WORDS)
    return sorted(words - set(SPLIT))


# -- tiny tokenizers, one per kind, with hand-made vocabularies (segmentations known) ----------
def wordpiece_tokenizer(cls_name: str):
    import transformers
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = sorted({c for w in lexicon() + list(SPLIT) for c in w})
    pieces = ["Bundes", "##kanzler", "##amt"]
    vocab = specials + lexicon() + pieces + chars + ["##" + c for c in chars]
    tok = Tokenizer(
        models.WordPiece({p: i for i, p in enumerate(dict.fromkeys(vocab))}, unk_token="[UNK]")
    )
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return getattr(transformers, cls_name)(
        tokenizer_object=tok,
        do_lower_case=False,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def merge_chain(token: str) -> list[tuple[str, str]]:
    """The BPE merges that build ``token`` from its characters, left to right."""
    return [(token[:i], token[i]) for i in range(1, len(token))]


def bpe_tokenizer():
    """A RoBERTa-style byte-level BPE saved, as RoBERTa's are, with add_prefix_space=False."""
    from tokenizers import ByteLevelBPETokenizer, pre_tokenizers, processors
    from transformers import RobertaTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    targets = ["Ġ" + w for w in lexicon()] + ["ĠBundes", "kanzler", "amt"]
    merges = list(dict.fromkeys(m for t in targets for m in merge_chain(t)))
    vocab = specials + sorted(pre_tokenizers.ByteLevel.alphabet()) + [a + b for a, b in merges]
    vocab = {p: i for i, p in enumerate(dict.fromkeys(vocab))}
    bpe = ByteLevelBPETokenizer(vocab, merges, add_prefix_space=False)
    bpe.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return RobertaTokenizerFast(tokenizer_object=bpe._tokenizer, add_prefix_space=False)


def unigram_tokenizer():
    """An XLM-R-style SentencePiece Unigram (the tokenizers library's; no sentencepiece needed)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import XLMRobertaTokenizerFast

    specials = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    chars = sorted({c for w in lexicon() + list(SPLIT) for c in w} | {"▁"})
    pieces = [("▁" + w, -1.0) for w in lexicon()]
    pieces += [("▁Bundes", -2.0), ("kanzler", -2.0), ("amt", -2.0)]
    vocab = specials + pieces + [(c, -10.0) for c in chars] + [("<mask>", 0.0)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(prepend_scheme="always")]
    )
    tok.decoder = decoders.Metaspace(prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return XLMRobertaTokenizerFast(tokenizer_object=tok)


TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def tiny_config(family: str, tokenizer):
    import transformers as tf

    n = len(tokenizer)
    if family == "bert":
        return tf.BertConfig(vocab_size=n, max_position_embeddings=64, **TINY)
    if family == "electra":
        return tf.ElectraConfig(vocab_size=n, embedding_size=32, max_position_embeddings=64, **TINY)
    if family == "roberta":  # positions start after the padding index
        return tf.RobertaConfig(vocab_size=n, max_position_embeddings=66, pad_token_id=1, **TINY)
    if family == "xlm-roberta":
        return tf.XLMRobertaConfig(vocab_size=n, max_position_embeddings=66, pad_token_id=1, **TINY)
    return tf.DistilBertConfig(
        vocab_size=n, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=64
    )


FAMILIES = {  # family: (tokenizer kind, tokenizer builder)
    "bert": ("wordpiece", lambda: wordpiece_tokenizer("BertTokenizerFast")),
    "electra": ("wordpiece", lambda: wordpiece_tokenizer("ElectraTokenizerFast")),
    "roberta": ("bpe", bpe_tokenizer),
    "xlm-roberta": ("unigram", unigram_tokenizer),
    "distilbert": ("wordpiece", lambda: wordpiece_tokenizer("DistilBertTokenizerFast")),
}
# where each family's attention dropout lives in transformers 5.24, written out by hand (the
# table in nerhpo.training.families must agree): module names ending so, one per layer
ATTENTION_DROPOUT = {
    "bert": (".attention.self.dropout", "hidden_dropout_prob", "attention_probs_dropout_prob"),
    "electra": (".attention.self.dropout", "hidden_dropout_prob", "attention_probs_dropout_prob"),
    "roberta": (".attention.self.dropout", "hidden_dropout_prob", "attention_probs_dropout_prob"),
    "xlm-roberta": (".attention.self.dropout",)
    + ("hidden_dropout_prob",)
    + ("attention_probs_dropout_prob",),
    "distilbert": (".attention.dropout", "dropout", "attention_dropout"),
}


def save_encoder(family: str, directory):
    """A tiny encoder of ``family`` with random weights and its tokenizer, as a local model."""
    from transformers import AutoModel

    torch.manual_seed(0)
    tokenizer = FAMILIES[family][1]()
    model = AutoModel.from_config(tiny_config(family, tokenizer))
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(autouse=True)
def fp32(monkeypatch):
    """nerhpo's scoring and plain transformers compute alike (no bf16 autocast on either)."""
    monkeypatch.setenv("NERHPO_PRECISION", "fp32")


@pytest.fixture(scope="module")
def encoders(tmp_path_factory):
    root = tmp_path_factory.mktemp("encoders")
    return {family: save_encoder(family, root / family) for family in FAMILIES}


def dropouts(model) -> dict[str, float]:
    return {n: m.p for n, m in model.named_modules() if isinstance(m, torch.nn.Dropout)}


def assert_dropout(model, family: str, attention: float, hidden: float) -> None:
    suffix, hidden_key, attention_key = ATTENTION_DROPOUT[family]
    ps = dropouts(model)
    assert sum(n.endswith(suffix) for n in ps) == 2  # one per layer
    assert {n: p for n, p in ps.items() if n.endswith(suffix)} == {
        n: attention for n in ps if n.endswith(suffix)
    }
    assert {p for n, p in ps.items() if not n.endswith(suffix)} == {hidden}
    config = model.config.to_dict()
    assert (config[attention_key], config[hidden_key]) == (attention, hidden)


# -- word/subword alignment against hand-computed labels ---------------------------------------
@pytest.mark.parametrize("family", ["bert", "roberta", "xlm-roberta"])
def test_alignment_matches_hand_computed_labels(encoders, family):
    from nerhpo.training.encoding import encode
    from nerhpo.training.model import load_tokenizer

    kind = FAMILIES[family][0]
    tokenizer = load_tokenizer(encoders[family])
    enc = encode([Sentence(WORDS, TAGS)], tokenizer, {t: i for i, t in enumerate(LABELS)}, 64)
    assert tokenizer.convert_ids_to_tokens(enc.input_ids[0]) == HAND_TOKENS[kind]
    assert enc.labels[0] == HAND_LABELS
    assert enc.words[0] == list(range(len(WORDS))) and enc.truncated_words == 0


def test_byte_level_bpe_gets_the_leading_space_of_every_word(encoders):
    """Saved with add_prefix_space=False (as RoBERTa's are), a byte-level BPE fed pre-split words
    gave ``besucht`` for ``Ġbesucht``; nerhpo loads it with the space, and saves it so."""
    from transformers import AutoTokenizer

    from nerhpo.training.model import byte_level_prefix, load_tokenizer

    plain = AutoTokenizer.from_pretrained(str(encoders["roberta"]))
    assert byte_level_prefix(plain) is False
    pieces = plain.convert_ids_to_tokens(plain(WORDS, is_split_into_words=True)["input_ids"])
    assert not any(p.startswith("Ġ") for p in pieces)  # "besucht" came as b, e, s, u, c, h, t
    tokenizer = load_tokenizer(encoders["roberta"])
    assert byte_level_prefix(tokenizer) is True


def test_scratch_wordpiece_tokenizer_loads_as_before(tmp_path):
    """The demo's tokenizer (a WordPiece, not byte-level) is loaded once, with no extra argument."""
    from transformers import AutoTokenizer

    from nerhpo.training.model import byte_level_prefix, load_tokenizer, train_wordpiece

    train_wordpiece([" ".join(s.tokens) for s in corpus(12)], 200).save_pretrained(tmp_path)
    ours, plain = load_tokenizer(tmp_path), AutoTokenizer.from_pretrained(str(tmp_path))
    assert byte_level_prefix(ours) is None and type(ours) is type(plain)
    words = [s.tokens for s in corpus(12)]
    assert (
        ours(words, is_split_into_words=True).input_ids
        == plain(words, is_split_into_words=True).input_ids
    )


def test_a_word_without_subwords_does_not_shift_the_words_after_it(encoders):
    """GermEval's dev and test files each hold a lone control character (``\\x96``), which the
    WordPiece normaliser removes: the predictions after it were one word off."""
    from nerhpo.training.encoding import encode
    from nerhpo.training.model import load_token_classifier, load_tokenizer
    from nerhpo.training.trainer import predict

    tokenizer = load_tokenizer(encoders["bert"])
    label2id = {t: i for i, t in enumerate(LABELS)}
    with_cc = Sentence(WORDS[:4] + ["\x96"] + WORDS[4:], TAGS[:4] + ["O"] + TAGS[4:])
    enc = encode([Sentence(WORDS, TAGS), with_cc], tokenizer, label2id, 64)
    assert enc.input_ids[0] == enc.input_ids[1] and enc.words[1] == [0, 1, 2, 3, 5, 6, 7, 8]
    assert enc.truncated_words == 0
    torch.manual_seed(0)
    model = load_token_classifier(encoders["bert"], LABELS)
    plain, shifted = predict(model, enc, tokenizer.pad_token_id)
    assert shifted == plain[:4] + ["O"] + plain[4:]


# -- dropout: config keys, modules, the forward pass -------------------------------------------
def test_bert_builds_exactly_as_before(encoders):
    """The demo's BERT: the same config (BERT's keys, passed to from_pretrained as before) and
    the same modules set (attention.self's dropout is attention dropout, the rest hidden)."""
    from transformers import AutoConfig

    from nerhpo.training.model import load_token_classifier, set_dropout

    path = encoders["bert"]
    model = load_token_classifier(path, LABELS, attention_dropout=0.23, hidden_dropout=0.17)
    before = AutoConfig.from_pretrained(
        str(path),
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        attention_probs_dropout_prob=0.23,
        hidden_dropout_prob=0.17,
    )
    assert model.config.to_dict() == before.to_dict()
    set_dropout(model, 0.05, 0.3)
    old_rule = {n: 0.05 if "attention.self" in n else 0.3 for n in dropouts(model)}
    assert dropouts(model) == old_rule


@pytest.mark.parametrize("family", list(FAMILIES))
def test_dropout_reaches_config_and_modules(encoders, family):
    from nerhpo.training.model import load_token_classifier, set_dropout

    model = load_token_classifier(
        encoders[family], LABELS, attention_dropout=0.25, hidden_dropout=0.15
    )
    assert_dropout(model, family, 0.25, 0.15)
    set_dropout(model, 0.05, 0.3)  # PBT's in-place change
    assert_dropout(model, family, 0.05, 0.3)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_forward_pass_uses_the_new_attention_dropout(encoders, family, monkeypatch):
    """transformers 5.24 hands ``self.dropout.p`` to the attention function (sdpa here): what
    it receives is the value set in place, and only attention dropout left on still changes
    the training-mode output."""
    from nerhpo.training.model import load_token_classifier, load_tokenizer, set_dropout

    model = load_token_classifier(encoders[family], LABELS)
    batch = load_tokenizer(encoders[family])([WORDS], is_split_into_words=True, return_tensors="pt")
    seen = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def recording(*args, dropout_p=0.0, **kwargs):
        seen.append(dropout_p)
        return sdpa(*args, dropout_p=dropout_p, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", recording)
    model.train()
    set_dropout(model, 0.0, 0.0)
    a, b = (model(**batch).logits for _ in range(2))
    assert torch.equal(a, b)  # nothing left at a value nerhpo did not set
    set_dropout(model, 0.4, 0.0)
    seen.clear()
    a, b = (model(**batch).logits for _ in range(2))
    assert not torch.equal(a, b) and seen == [0.4] * 4  # 2 layers x 2 passes
    set_dropout(model, 0.0, 0.4)
    a, b = (model(**batch).logits for _ in range(2))
    assert not torch.equal(a, b)


def test_an_attention_probability_kept_as_a_float_is_set_too(encoders):
    """Attention modules that pass a float (ModernBERT's ``self.attention_dropout``) rather than
    an nn.Dropout's ``p`` to the attention function get that float set in place."""
    from nerhpo.training.model import load_token_classifier, set_dropout

    model = load_token_classifier(encoders["bert"], LABELS)
    for layer in model.bert.encoder.layer:
        layer.attention.self.attention_dropout = 0.1
    set_dropout(model, 0.35, 0.2)
    assert [layer.attention.self.attention_dropout for layer in model.bert.encoder.layer] == [
        0.35
    ] * 2
    assert_dropout(model, "bert", 0.35, 0.2)


def test_a_family_nerhpo_does_not_know_cannot_search_dropout(tmp_path):
    from nerhpo.search.space import SearchSpaceError, check_space
    from nerhpo.training.families import dropout_layout

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "xyz"}))
    space = {"attention_dropout": {"type": "uniform", "low": 0.0, "high": 0.3}}
    with pytest.raises(SearchSpaceError) as err:
        check_space(space, tmp_path)
    assert str(err.value) == (
        "hpo.search_space.attention_dropout: model type 'xyz' has no known attention dropout; "
        "remove it from the search space"
    )
    check_space({"learning_rate": {"type": "loguniform", "low": 1e-4, "high": 1e-3}}, tmp_path)
    for family in FAMILIES:
        assert dropout_layout(family) is not None
        check_space(space, tmp_path.parent / "nothing-here")  # unreadable: left to the trials


def test_an_unknown_family_keeps_its_own_dropout(tmp_path, caplog):
    """MPNet is not in the table: its dropout is left as its config says, with a warning,
    rather than set through keys it does not read (the search space refuses to search it)."""
    from transformers import MPNetConfig, MPNetModel

    from nerhpo.training.model import load_token_classifier, set_dropout

    MPNetModel(MPNetConfig(vocab_size=50, max_position_embeddings=64, **TINY)).save_pretrained(
        tmp_path
    )
    model = load_token_classifier(tmp_path, LABELS, attention_dropout=0.3, hidden_dropout=0.3)
    set_dropout(model, 0.3, 0.3)
    assert set(dropouts(model).values()) == {0.1}
    assert model.config.attention_probs_dropout_prob == model.config.hidden_dropout_prob == 0.1
    assert "'mpnet': nerhpo knows no dropout keys" in caplog.text


# -- fine-tuning, export, scoring, plain transformers ------------------------------------------
def write_data(directory):
    directory.mkdir(parents=True, exist_ok=True)
    for split, (n, offset) in {"train": (16, 0), "dev": (6, 16), "test": (6, 22)}.items():
        write_corpus(directory / f"{split}.tsv", corpus(n, offset))
    return directory


def export(trainer, tokenizer, out):
    """What nerhpo.search.runner.export_best copies from a trial's checkpoint into model/."""
    checkpoint = out.parent / f"{out.name}-checkpoint"
    trainer.save_checkpoint(checkpoint)
    tokenizer.save_pretrained(checkpoint / "tokenizer")
    out.mkdir()
    for name in ("model.safetensors", "config.json"):
        shutil.copy2(checkpoint / name, out / name)
    for path in (checkpoint / "tokenizer").iterdir():
        shutil.copy2(path, out / path.name)
    (out / "labels.json").write_text(json.dumps(LABELS))
    return out


def nerhpo_entities(model_dir, sentences):
    """Entities (type, first char, end char) from nerhpo's own prediction, seqeval's chunks."""
    from seqeval.metrics.sequence_labeling import get_entities

    from nerhpo.training.encoding import encode
    from nerhpo.training.model import load_finetuned
    from nerhpo.training.trainer import predict

    model, tokenizer, labels = load_finetuned(model_dir)
    enc = encode(sentences, tokenizer, {t: i for i, t in enumerate(labels)}, 64)
    out = []
    for s, tags in zip(sentences, predict(model, enc, tokenizer.pad_token_id)):
        starts = [sum(len(w) + 1 for w in s.tokens[:i]) for i in range(len(s.tokens))]
        out.append([(t, starts[a], starts[b] + len(s.tokens[b])) for t, a, b in get_entities(tags)])
    return out


def pipeline_entities(model_dir, sentences):
    import warnings

    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    model = AutoModelForTokenClassification.from_pretrained(str(model_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    ner = pipeline("token-classification", model=model, tokenizer=tokenizer, device="cpu")
    with warnings.catch_warnings():  # BPE/Unigram: transformers' word heuristic, says so
        warnings.simplefilter("ignore", UserWarning)
        found = ner([" ".join(s.tokens) for s in sentences], aggregation_strategy="first")
    return [[(e["entity_group"], e["start"], e["end"]) for e in row] for row in found]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_fine_tune_export_score_and_plain_transformers(encoders, family, tmp_path):
    from nerhpo.training.encoding import TrialConfig
    from nerhpo.training.model import load_tokenizer
    from nerhpo.training.model_card import add_scores, write_model_card
    from nerhpo.training.retrain import encode_splits, score_exported
    from nerhpo.training.trainer import fit, new_trainer

    data = write_data(tmp_path / "data")
    tokenizer = load_tokenizer(encoders[family])
    splits = encode_splits(data, tokenizer, LABELS, 64)
    config = TrialConfig(
        learning_rate=3e-3, batch_size=4, epochs=1, attention_dropout=0.2, hidden_dropout=0.05
    )
    trainer = new_trainer(
        encoders[family], LABELS, splits["train"], splits["dev"], config, tokenizer.pad_token_id
    )
    epochs = list(fit(trainer))
    assert [e.epoch for e in epochs] == [1] and 0.0 <= epochs[0].dev_f1 <= 1.0
    # one epoch on 16 sentences predicts O everywhere: a sharp random head instead, whose tags
    # vary from subword to subword, tests how both sides group subwords into words and entities
    torch.manual_seed(1)
    with torch.no_grad():
        trainer.model.classifier.weight.normal_(0.0, 1.0)
        trainer.model.classifier.bias.zero_()
    model_dir = export(trainer, tokenizer, tmp_path / "model")
    saved = json.loads((model_dir / "config.json").read_text())
    _, hidden_key, attention_key = ATTENTION_DROPOUT[family]
    assert (saved[attention_key], saved[hidden_key]) == (0.2, 0.05)
    assert saved["id2label"] == {str(i): t for i, t in enumerate(LABELS)}
    assert saved["label2id"] == {t: i for i, t in enumerate(LABELS)}
    scores = score_exported(model_dir, data, 64)
    assert set(scores) == {"dev_f1", "test_f1"}
    sentences = [Sentence(WORDS, TAGS)] + corpus(5, 16)
    ours = nerhpo_entities(model_dir, sentences)
    assert sum(map(len, ours)) > 0, "no entity predicted: the comparison would be empty"
    assert pipeline_entities(model_dir, sentences) == ours
    best = {"family": "original", "train_variant": "cased", "algorithm": "asha", "trial_id": "t1"}
    best.update(dev_f1=scores["dev_f1"], epoch=1, config={"learning_rate": 3e-3}, seed=42)
    write_model_card(model_dir, best, LABELS, corpus="tiny test corpus", encoder=family)
    result = {"scores": {s: {"cased": {"f1": scores[f"{s}_f1"]}} for s in ("dev", "test")}}
    card = add_scores(model_dir, result).read_text()
    assert f"| cased | {scores['dev_f1']:.4f} | {scores['test_f1']:.4f} |" in card


# -- one real study per family: Ray Tune, export, evaluation ------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_study_exports_the_trials_dropout_and_is_evaluated(encoders, family, tmp_path):
    """Two random-search trials of one epoch on a tiny GermEval-format corpus: the exported best
    model's config carries the chosen trial's dropout under the family's own keys, and the
    evaluation stage's scoring reads it."""
    import ray
    import yaml
    from project_copy import ROOT, deep_update

    from nerhpo.search.runner import run_study
    from nerhpo.search.space import check_space
    from nerhpo.search.study import make_study

    uniform = {"type": "uniform", "low": 0.0, "high": 0.3}
    space = {
        "learning_rate": {"type": "loguniform", "low": 1e-3, "high": 5e-3},
        "attention_dropout": uniform,
        "hidden_dropout": uniform,
    }
    params = deep_update(
        yaml.safe_load((ROOT / "params.yaml").read_text()),
        {
            "model": {"max_length": 64},
            "train": {"batch_size": 4},
            "hpo": {"num_samples": 2, "max_epochs": 1, "concurrency": 1, "search_space": space},
        },
    )
    check_space(space, encoders[family])
    data = write_data(tmp_path / "data" / "original" / "cased")
    study = make_study(
        params, "original", "cased", "random", data, encoders[family], tmp_path / "hpo"
    )
    try:
        run_study(study)
    finally:
        ray.shutdown()
    best = json.loads((tmp_path / "hpo/best.json").read_text())
    saved = json.loads((tmp_path / "hpo/model/config.json").read_text())
    layout = dropout_layout(saved["model_type"])
    assert saved["model_type"] == family
    assert saved[layout.attention_key] == pytest.approx(best["config"]["attention_dropout"])
    assert saved[layout.hidden_key] == pytest.approx(best["config"]["hidden_dropout"])
    assert saved[layout.hidden_key] != 0.1 and saved[layout.attention_key] != 0.1  # tuned
    assert saved["id2label"]["0"] == "O"
    result = evaluate_model(tmp_path / "hpo/model", tmp_path / "data", "original", ["cased"], 64)
    assert set(result["scores"]) == {"dev", "test"}
    assert result["scores"]["dev"]["cased"]["sentences"] == 6
    assert 0.0 <= result["scores"]["test"]["cased"]["f1"] <= 1.0
