"""Re-train a study's best configuration with other training seeds, and score the study's model.

Why: a study's best dev F1 is the maximum over its trials, so it is biased upwards and carries
the luck of one training seed. Re-training the chosen configuration with several seeds gives
an unbiased dev F1 and its seed noise; the test F1 of each re-trained model (at the epoch with
the best dev F1, chosen on dev) is only reported.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

from nerhpo.core.hparams import HPARAMS
from nerhpo.data.corpus import read_corpus
from nerhpo.training.encoding import TrialConfig
from nerhpo.training.evaluate import score


def encode_splits(data_dir: str | Path, tokenizer, labels: list[str], max_length: int) -> dict:
    from nerhpo.training.trainer import encode

    label2id = {label: i for i, label in enumerate(labels)}
    return {
        split: encode(read_corpus(Path(data_dir) / f"{split}.tsv"), tokenizer, label2id, max_length)
        for split in ("train", "dev", "test")
    }


def train_best_epoch(
    model_dir, labels: list[str], splits: dict, pad_id: int, config: dict, seed: int, epochs: int
):
    """Train ``config`` from the encoder with ``seed`` for ``epochs`` (the HPO schedule) and keep
    the epoch with the best dev F1: (trainer, its model at that epoch, run facts)."""
    from nerhpo.training.trainer import fit, new_trainer

    cfg = TrialConfig.from_dict({**config, "seed": seed, "epochs": epochs})
    trainer = new_trainer(model_dir, labels, splits["train"], splits["dev"], cfg, pad_id)
    model = trainer.model
    start = time.perf_counter()
    curve, best_f1, best_epoch, best_state = [], -1.0, 0, None
    for epoch in fit(trainer):
        curve.append(epoch.dev_f1)
        if epoch.dev_f1 > best_f1:
            best_f1, best_epoch = epoch.dev_f1, epoch.epoch
            best_state = copy.deepcopy({k: v.cpu() for k, v in model.state_dict().items()})
    model.load_state_dict(best_state)
    facts = {"seed": seed, "best_epoch": best_epoch, "dev_f1_per_epoch": curve}
    facts["train_seconds"] = round(time.perf_counter() - start, 2)
    return trainer, model, facts


def retrain_once(
    model_dir, labels: list[str], splits: dict, pad_id: int, config: dict, seed: int, epochs: int
) -> dict:
    """Train ``config`` from the encoder with ``seed`` for ``epochs`` (the HPO schedule), keep the
    epoch with the best dev F1, and score that model on dev and test."""
    from nerhpo.training.trainer import predict

    start = time.perf_counter()
    trainer, model, facts = train_best_epoch(
        model_dir, labels, splits, pad_id, config, seed, epochs
    )
    out = {k: facts[k] for k in ("seed", "best_epoch", "dev_f1_per_epoch")}
    for split in ("dev", "test"):
        pred = predict(model, splits[split], pad_id, device=trainer.device)
        out[f"{split}_f1"] = score(splits[split].gold, pred)["f1"]
    out["train_seconds"] = round(time.perf_counter() - start, 2)
    return out


def retrain_on_variants(
    encoder_dir,
    data_root: str | Path,
    family: str,
    train_variant: str,
    variants: list[str],
    labels: list[str],
    config: dict,
    seeds: list[int],
    epochs: int,
    max_length: int,
) -> list[dict]:
    """Re-train ``config`` on one training variant once per seed (best epoch on its own dev set)
    and score each model on dev and test of every evaluation variant: the seed spread of the
    casing robustness, which one study's best model cannot show."""
    import torch

    from nerhpo.training.evaluate import evaluate_split
    from nerhpo.training.model import load_tokenizer

    tokenizer = load_tokenizer(encoder_dir)
    splits = encode_splits(Path(data_root) / family / train_variant, tokenizer, labels, max_length)
    label2id = {label: i for i, label in enumerate(labels)}
    runs = []
    for seed in seeds:
        _, model, facts = train_best_epoch(
            encoder_dir, labels, splits, tokenizer.pad_token_id, config, seed, epochs
        )
        model.eval()
        start = time.perf_counter()
        scores: dict[str, dict[str, float]] = {"dev": {}, "test": {}}
        with torch.no_grad():
            for variant in variants:
                for split in scores:
                    path = Path(data_root) / family / variant / f"{split}.tsv"
                    result = evaluate_split(model, tokenizer, label2id, path, max_length, 128)
                    scores[split][variant] = result["f1"]
        runs.append(
            {**facts, "scores": scores, "eval_seconds": round(time.perf_counter() - start, 2)}
        )
    return runs


def score_exported(model_dir: str | Path, data_dir: str | Path, max_length: int) -> dict:
    """Dev and test F1 of a study's exported best model on its own training variant."""
    import torch

    from nerhpo.training.evaluate import evaluate_split
    from nerhpo.training.model import load_finetuned

    model, tokenizer, labels = load_finetuned(model_dir)
    model.eval()
    label2id = {label: i for i, label in enumerate(labels)}
    out = {}
    with torch.no_grad():
        for split in ("dev", "test"):
            path = Path(data_dir) / f"{split}.tsv"
            out[f"{split}_f1"] = evaluate_split(model, tokenizer, label2id, path, max_length, 128)[
                "f1"
            ]
    return out


def retrain_study(
    study_dir: str | Path,
    data_dir: str | Path,
    encoder_dir,
    labels: list[str],
    seeds: list[int],
    epochs: int,
    max_length: int,
    batch_order: str = TrialConfig.batch_order,
) -> dict:
    """Re-train the best configuration of the study in ``study_dir`` once per seed."""
    import json

    from nerhpo.training.model import load_tokenizer

    study_dir = Path(study_dir)
    best = json.loads((study_dir / "best.json").read_text(encoding="utf-8"))
    config = {k: best["config"][k] for k in HPARAMS if k in best["config"]}
    settings = {**config, "batch_order": batch_order}  # a setting (train.batch_order), not searched
    tokenizer = load_tokenizer(encoder_dir)
    splits = encode_splits(data_dir, tokenizer, labels, max_length)
    runs = [
        retrain_once(encoder_dir, labels, splits, tokenizer.pad_token_id, settings, s, epochs)
        for s in seeds
    ]
    return {
        "study_dir": str(study_dir),
        "hpo_seed": best.get("seed"),
        "best_dev_f1": best["dev_f1"],
        "config": config,
        "epochs": epochs,
        "exported": score_exported(study_dir / "model", data_dir, max_length),
        "runs": runs,
    }
