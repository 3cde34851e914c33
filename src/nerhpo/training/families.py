"""Where each encoder family keeps its dropout: the config keys and the attention modules.

Why one table: BERT's key names (``hidden_dropout_prob``, ``attention_probs_dropout_prob``) and
module names (``attention.self``) are not every family's. A DistilBERT built with BERT's keys
kept ``dropout: 0.1`` whatever was tuned, and PBT's in-place change gave its attention dropout
the hidden value. The table serves both the build (config keys) and the in-place change
(modules). No torch here: the HPO driver checks its search space against it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

DROPOUT_HPARAMS = ("attention_dropout", "hidden_dropout")


@dataclass(frozen=True)
class DropoutLayout:
    """One family: its config keys, and the attention modules (a regular expression on module
    names) whose ``dropout`` (an nn.Dropout) or ``attention_dropout`` (a float handed to the
    attention function) is the attention dropout. Every other nn.Dropout is hidden dropout."""

    hidden_key: str
    attention_key: str
    attention_module: str

    def keys(self, attention_dropout: float | None, hidden_dropout: float | None) -> dict:
        """The config keys to set for the given values (None: keep the encoder's own)."""
        out = {}
        if attention_dropout is not None:
            out[self.attention_key] = attention_dropout
        if hidden_dropout is not None:
            out[self.hidden_key] = hidden_dropout
        return out

    def is_attention(self, module_name: str) -> bool:
        return re.search(self.attention_module, module_name) is not None


# transformers 5.24: every attention module below keeps an nn.Dropout as ``self.dropout`` and
# passes ``self.dropout.p`` to the attention function (eager, sdpa, flash) when training
BERT_LIKE = DropoutLayout(
    "hidden_dropout_prob", "attention_probs_dropout_prob", r"attention\.self$"
)
FAMILIES: dict[str, DropoutLayout] = {
    "bert": BERT_LIKE,
    "electra": BERT_LIKE,
    "roberta": BERT_LIKE,
    "xlm-roberta": BERT_LIKE,
    "xlm-roberta-xl": BERT_LIKE,
    "camembert": BERT_LIKE,
    "deberta": BERT_LIKE,
    "deberta-v2": BERT_LIKE,  # attention.self.pos_dropout is hidden dropout, as its config says
    "distilbert": DropoutLayout("dropout", "attention_dropout", r"(^|\.)attention$"),
}


def dropout_layout(model_type: str | None) -> DropoutLayout | None:
    """The family's layout, or None for a family nerhpo does not know."""
    return FAMILIES.get(model_type or "")


def model_type_of(name_or_path) -> str | None:
    """``model_type`` from a local model's config.json (or the hub cache's), without transformers;
    None when there is none to read."""
    config = Path(name_or_path) / "config.json"
    if not config.is_file():
        config = cached_config(str(name_or_path))
    if config is None:
        return None
    try:
        return json.loads(Path(config).read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError):
        return None


def cached_config(name: str) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(name, "config.json")
    except Exception:  # not a hub name, or no hub library: nothing to read
        return None
    return Path(found) if isinstance(found, str) else None


def unsupported_dropout(model_type: str | None, searched) -> str | None:
    """A one-line error for the first dropout hyperparameter in ``searched`` that the model type
    has no known place for; None when all can be set."""
    if dropout_layout(model_type) is not None:
        return None
    kinds = {"attention_dropout": "attention dropout", "hidden_dropout": "hidden dropout"}
    for name in DROPOUT_HPARAMS:
        if name in searched:
            return (
                f"hpo.search_space.{name}: model type {model_type!r} has no known {kinds[name]}; "
                "remove it from the search space"
            )
    return None
