"""Tokenizer and encoder: trained from scratch on the corpus, or loaded from a local path / hub cache.

``scratch`` (the offline default) trains a WordPiece tokenizer on the cased and lowercased
training text (``model.scratch.pretrain_casing``) and pretrains a small BERT with
masked-language modelling once (the epoch loop: ``nerhpo.training.mlm``); every HPO job then
fine-tunes that encoder. Anything else is loaded with the Auto classes, safetensors only, never
remote code, never downloaded (``local_files_only``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from nerhpo.core.errors import NerhpoError
from nerhpo.training.families import dropout_layout

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


class ModelLoadError(NerhpoError, RuntimeError):
    """A model directory that cannot be loaded safely."""


def wordpiece_vocab(texts: list[str], vocab_size: int, max_piece: int = 12) -> list[str]:
    """A WordPiece vocabulary chosen by frequency, deterministically.

    The tokenizers library's trainer breaks ties between equally frequent merges differently
    from run to run, so the same corpus gave different vocabularies (and different results).
    Here every word-initial piece and every ``##`` continuation piece is counted over the corpus,
    and the most frequent ones are kept (ties broken alphabetically); all characters are in.
    """
    from collections import Counter

    from tokenizers import pre_tokenizers

    pre = pre_tokenizers.BertPreTokenizer()
    words: Counter[str] = Counter()
    for text in texts:
        words.update(w for w, _ in pre.pre_tokenize_str(text))
    pieces: Counter[str] = Counter()
    chars: set[str] = set()
    for word, count in words.items():
        chars.update(word)
        for i in range(len(word)):
            for j in range(i + 1, min(len(word), i + max_piece) + 1):
                pieces[word[i:j] if i == 0 else "##" + word[i:j]] += count
    base = SPECIAL_TOKENS + sorted(chars) + sorted("##" + c for c in chars)
    taken = set(base)
    ranked = sorted((p for p in pieces if p not in taken), key=lambda p: (-pieces[p], p))
    return base + ranked[: max(0, vocab_size - len(base))]


def train_wordpiece(texts: list[str], vocab_size: int, lowercase: bool = False):
    """A BERT-style WordPiece tokenizer for ``texts`` (the tokenizers library's WordPiece model)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {piece: i for i, piece in enumerate(wordpiece_vocab(texts, vocab_size))}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def scratch_config(vocab_size: int, size: dict):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=size["hidden_size"],
        num_hidden_layers=size["num_layers"],
        num_attention_heads=size["num_heads"],
        intermediate_size=size["intermediate_size"],
        max_position_embeddings=size["max_length"],
    )


def masked_lm_loss(model, batch):
    """BertForMaskedLM's loss, with the vocabulary head applied to the masked positions only.

    Same value as ``model(**batch).loss`` (the mean cross-entropy over masked tokens), but the
    head (hidden x vocabulary, more than the whole encoder costs at the demo's size) runs on 15%
    of the tokens instead of all of them: pretraining is about twice as fast.
    """
    import torch.nn.functional as F

    hidden = model.bert(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).last_hidden_state
    masked = batch["labels"] != -100
    logits = model.cls(hidden[masked])
    return F.cross_entropy(logits.float(), batch["labels"][masked])


def check_safe_weights(path: Path) -> None:
    """Refuse a model directory without safetensors weights (pickled weights can run code)."""
    if path.is_dir():
        has_safe = any(path.glob("*.safetensors"))
        unsafe = [
            p.name for p in path.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt")
        ]
        if not has_safe:
            what = f" (found only {', '.join(sorted(unsafe))})" if unsafe else ""
            raise ModelLoadError(
                f"{path}: no .safetensors weights{what}; nerhpo loads weights only from safetensors "
                "(pickled .bin files can run code). Convert the model with save_pretrained("
                "safe_serialization=True)."
            )


def load_tokenizer(name_or_path: str | Path):
    """The model's tokenizer, offline. A byte-level BPE (RoBERTa, GPT-2) is loaded with
    ``add_prefix_space=True``: nerhpo feeds pre-split words, and without it every word after the
    first reached the model without its leading space (``ist``, not ``Ġist``). WordPiece and
    SentencePiece tokenizers load as they are."""
    tokenizer = auto_tokenizer(name_or_path)
    if byte_level_prefix(tokenizer) is False:
        tokenizer = auto_tokenizer(name_or_path, add_prefix_space=True)
        if not byte_level_prefix(tokenizer):
            log.warning(
                "%s: byte-level tokenizer %s takes no add_prefix_space; pre-split words after "
                "the first reach the model without their leading space",
                name_or_path,
                type(tokenizer).__name__,
            )
    return tokenizer


def auto_tokenizer(name_or_path: str | Path, **kwargs):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(
            str(name_or_path), local_files_only=True, trust_remote_code=False, **kwargs
        )
    except OSError as err:
        raise ModelLoadError(f"{name_or_path}: cannot load tokenizer offline: {err}") from None


def byte_level_prefix(tokenizer) -> bool | None:
    """Whether a byte-level pre-tokenizer adds a space before each word; None: not byte-level."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    pre = getattr(backend, "pre_tokenizer", None)
    if pre is None:
        return None
    state = json.loads(pre.__getstate__())
    parts = state.get("pretokenizers", [state]) if state.get("type") == "Sequence" else [state]
    levels = [p for p in parts if p.get("type") == "ByteLevel"]
    return bool(levels[0].get("add_prefix_space")) if levels else None


FRESH_HEAD = frozenset({"classifier.weight", "classifier.bias"})


def quiet_transformers() -> None:
    """No per-load progress bar and load report in the job logs: nerhpo checks the loaded
    weights itself (``load_token_classifier``) and says what matters in one line."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_token_classifier(
    name_or_path: str | Path,
    labels: list[str],
    attention_dropout: float | None = None,
    hidden_dropout: float | None = None,
    fresh_head: bool = True,
):
    """An encoder with a token-classification head for ``labels`` (safetensors only): a fresh
    head on a pretrained encoder, or (``fresh_head=False``) a fine-tuned model, all of whose
    weights must be in the checkpoint."""
    from transformers import AutoConfig, AutoModelForTokenClassification

    quiet_transformers()

    path = Path(name_or_path)
    check_safe_weights(path)
    try:
        config = AutoConfig.from_pretrained(
            str(name_or_path),
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            local_files_only=True,
            trust_remote_code=False,
        )
        set_dropout_keys(config, attention_dropout, hidden_dropout)
        model, info = AutoModelForTokenClassification.from_pretrained(
            str(name_or_path),
            config=config,
            use_safetensors=True,
            local_files_only=True,
            trust_remote_code=False,
            output_loading_info=True,
        )
    except OSError as err:
        raise ModelLoadError(f"{name_or_path}: cannot load model offline: {err}") from None
    missing = sorted(set(info.get("missing_keys") or ()) - (FRESH_HEAD if fresh_head else set()))
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        if not fresh_head:
            raise ModelLoadError(f"{name_or_path}: weights missing from the checkpoint: {shown}")
        log.warning("%s: encoder weights missing, initialised at random: %s", name_or_path, shown)
    return model


def set_dropout_keys(config, attention_dropout: float | None, hidden_dropout: float | None):
    """Dropout under the config keys of the model's family (see nerhpo.training.families)."""
    layout = dropout_layout(config.model_type)
    if layout is None:
        if attention_dropout is not None or hidden_dropout is not None:
            warn_unknown_family(config.model_type)
        return
    for key, value in layout.keys(attention_dropout, hidden_dropout).items():
        setattr(config, key, value)


_WARNED: set[str] = set()


def warn_unknown_family(model_type: str) -> None:
    if model_type not in _WARNED:
        _WARNED.add(model_type)
        log.warning(
            "model type %r: nerhpo knows no dropout keys for it; its own dropout is kept",
            model_type,
        )


def set_dropout(model, attention_dropout: float, hidden_dropout: float) -> None:
    """Change dropout in place (PBT perturbs it between epochs), in the modules where the model's
    family keeps it and in its config, so a saved checkpoint names the values it trained with."""
    import torch

    layout = dropout_layout(model.config.model_type)
    if layout is None:
        warn_unknown_family(model.config.model_type)
        return
    attention = attention_dropouts(model, layout, attention_dropout)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout) and id(module) not in attention:
            module.p = hidden_dropout
    set_dropout_keys(model.config, attention_dropout, hidden_dropout)


def attention_dropouts(model, layout, p: float) -> set[int]:
    """Set the attention dropout of every attention module of ``layout`` to ``p``: its nn.Dropout
    (whose ``p`` the forward pass hands to the attention function) or its float. Returns the ids
    of the nn.Dropout modules set; raises if the model has none where the table says."""
    import torch

    owned: set[int] = set()
    found = 0
    for name, module in model.named_modules():
        if not layout.is_attention(name):
            continue
        for attr in ("dropout", "attention_dropout"):
            value = getattr(module, attr, None)
            if isinstance(value, torch.nn.Dropout):
                value.p = p
                owned.add(id(value))
                found += 1
            elif isinstance(value, float):
                setattr(module, attr, p)
                found += 1
    if not found:
        raise ModelLoadError(
            f"model type {model.config.model_type!r}: no attention dropout in modules matching "
            f"{layout.attention_module!r}; this transformers version lays the model out otherwise"
        )
    return owned


def load_finetuned(model_dir: str | Path):
    """A fine-tuned model as HPO exported it (model/: weights, tokenizer, labels.json)."""
    model_dir = Path(model_dir)
    labels_file = model_dir / "labels.json"
    if not labels_file.exists():
        raise ModelLoadError(f"{model_dir}: no labels.json; is this an exported HPO model?")
    labels = json.loads(labels_file.read_text())
    model = load_token_classifier(model_dir, labels, fresh_head=False)
    return model, load_tokenizer(model_dir), labels
