"""The pretrain stage: pretrain the scratch encoder, continue the pretraining of a local encoder
(``model.continue_pretraining``), or check that a configured one loads."""

from __future__ import annotations

import logging
from pathlib import Path

from nerhpo.core.atomic import atomic_directory, atomic_write_json
from nerhpo.data.corpus import read_corpus

log = logging.getLogger(__name__)


def run_pretrain(
    params: dict, corpus_train: str | Path, out_dir: str | Path, threads: int = 1
) -> dict:
    """Pretrain the scratch model, continue pretraining the configured one on the corpus'
    training text, or check that the configured model loads offline."""
    import torch

    torch.set_num_threads(max(1, threads))
    name = params["model"]["name_or_path"]
    if name == "scratch":
        from nerhpo.training.mlm import pretrain

        sentences = [s.tokens for s in read_corpus(corpus_train)]
        summary = pretrain(sentences, params["model"]["scratch"], params["seed"], out_dir)
        log.info(
            "pretrained %s parameters, MLM loss per epoch %s",
            summary["parameters"],
            summary["mlm_loss_per_epoch"],
        )
        return summary
    continued = params["model"].get("continue_pretraining") or {}
    if continued.get("epochs", 0) > 0:
        from nerhpo.training.mlm import continue_pretraining

        sentences = [s.tokens for s in read_corpus(corpus_train)]
        max_length = params["model"]["max_length"]
        summary = continue_pretraining(
            name, sentences, continued, params["seed"], max_length, out_dir
        )
        log.info(
            "continued the pretraining of %s, MLM loss per epoch %s",
            name,
            summary["mlm_loss_per_epoch"],
        )
        return summary
    from nerhpo.training.model import load_token_classifier, load_tokenizer

    load_tokenizer(name)
    model = load_token_classifier(name, ["O"])
    summary = {"name_or_path": name, "parameters": sum(p.numel() for p in model.parameters())}
    with atomic_directory(out_dir) as tmp:
        atomic_write_json(tmp / "pretrain.json", summary)
    return summary
