"""Glue between params and the package for the model stages (pretrain, hpo), so scripts stay thin."""

from __future__ import annotations

import logging
from pathlib import Path

from nerhpo.atomic import atomic_directory, atomic_write_json
from nerhpo.corpus import read_corpus
from nerhpo.tags import label_list

log = logging.getLogger(__name__)
PRETRAINED_DIR = Path("results/pretrained")


def model_source(params: dict, pretrained_dir: str | Path = PRETRAINED_DIR) -> Path | str:
    """Where the encoder comes from: the pretrain stage's output, or the configured path/name."""
    name = params["model"]["name_or_path"]
    return Path(pretrained_dir) if name == "scratch" else name


def run_pretrain(
    params: dict, corpus_train: str | Path, out_dir: str | Path, threads: int = 1
) -> dict:
    """Pretrain the scratch model, or check that the configured model loads offline."""
    import torch

    torch.set_num_threads(max(1, threads))
    name = params["model"]["name_or_path"]
    if name == "scratch":
        from nerhpo.model import pretrain

        sentences = [s.tokens for s in read_corpus(corpus_train)]
        summary = pretrain(sentences, params["model"]["scratch"], params["seed"], out_dir)
        log.info(
            "pretrained %s parameters, MLM loss per epoch %s",
            summary["parameters"],
            summary["mlm_loss_per_epoch"],
        )
        return summary
    from nerhpo.model import load_token_classifier, load_tokenizer

    load_tokenizer(name)
    model = load_token_classifier(name, ["O"])
    summary = {"name_or_path": name, "parameters": sum(p.numel() for p in model.parameters())}
    with atomic_directory(out_dir) as tmp:
        atomic_write_json(tmp / "pretrain.json", summary)
    return summary


def family_labels(data_dir: str | Path) -> list[str]:
    """The label list of a family's data (all splits, so dev/test types are never unknown)."""
    types = set()
    for split in ("train", "dev", "test"):
        for s in read_corpus(Path(data_dir) / f"{split}.tsv"):
            types.update(t[2:] for t in s.tags if t != "O")
    return label_list(types)


def make_study(
    params: dict, family: str, variant: str, algorithm: str, data_dir, model_dir, out_dir
):
    from nerhpo.hpo import Study

    return Study(
        family=family,
        variant=variant,
        algorithm=algorithm,
        data_dir=Path(data_dir),
        model_dir=Path(model_dir) if Path(model_dir).exists() else model_dir,
        out_dir=Path(out_dir),
        labels=family_labels(data_dir),
        hpo=params["hpo"],
        defaults=params["train"],
        max_length=params["model"]["max_length"],
        seed=params["seed"],
    )
