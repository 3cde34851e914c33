"""The seed's batch-size baseline: default hyperparameters, one batch size, no HPO.

Answers "how much does tuning buy over the defaults, and how sensitive is the default to batch
size" with the same trainer and data as the HPO studies.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from nerhpo.data.corpus import read_corpus
from nerhpo.data.tags import family_labels
from nerhpo.training.evaluate import score
from nerhpo.training.model import load_tokenizer
from nerhpo.training.trainer import TrialConfig, encode, fit, new_trainer, predict


def run_baseline(
    params: dict, family: str, variant: str, batch_size: int, model_dir, data_dir
) -> dict:
    data_dir = Path(data_dir)
    labels = family_labels(data_dir)
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = load_tokenizer(model_dir)
    max_length = params["model"]["max_length"]
    splits = {
        split: encode(read_corpus(data_dir / f"{split}.tsv"), tokenizer, label2id, max_length)
        for split in ("train", "dev", "test")
    }
    config = TrialConfig.from_dict(
        {**params["train"], "batch_size": batch_size, "seed": params["seed"]}
    )
    trainer = new_trainer(
        model_dir, labels, splits["train"], splits["dev"], config, tokenizer.pad_token_id
    )
    start = time.perf_counter()
    curve = [epoch.dev_f1 for epoch in fit(trainer)]
    seconds = time.perf_counter() - start
    result = {
        "family": family,
        "variant": variant,
        "batch_size": batch_size,
        "config": asdict(config),
    }
    for split in ("dev", "test"):
        pred = predict(trainer.model, splits[split], tokenizer.pad_token_id, device=trainer.device)
        result[split] = score(splits[split].gold, pred)
    result["dev_f1_per_epoch"] = curve
    result["train_seconds"] = round(seconds, 2)
    return result
