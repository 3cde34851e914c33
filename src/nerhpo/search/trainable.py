"""The trainable: one trial, run inside Ray's worker processes (resume, train, report per epoch)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerhpo.core.hparams import HPARAMS
from nerhpo.search.space import SearchSpaceError
from nerhpo.search.study import METRIC, objective_value
from nerhpo.training.encoding import Encoded, TrialConfig, encode
from nerhpo.training.families import unsupported_dropout


# -- the trainable (runs inside Ray's worker processes) ----------------------------------------
def trainable(config: dict, payload: dict) -> None:
    """One trial: resume from Tune's checkpoint if there is one, report dev F1 every epoch."""
    import ray
    import torch
    from ray import tune

    from nerhpo.training.trainer import fit, new_trainer

    torch.set_num_threads(max(1, int(payload["threads"])))
    # where the trial runs (trials.csv's node column): which machine of a Ray cluster, or which
    # node of several on one machine
    where = {"node": ray.get_runtime_context().get_node_id()}
    cfg = TrialConfig.from_dict(
        {**payload["defaults"], **config, "epochs": payload["max_epochs"], "seed": payload["seed"]}
    )
    data = encoded_data(payload)
    trainer = new_trainer(
        payload["model_dir"],
        payload["labels"],
        data.train,
        data.dev,
        cfg,
        data.tokenizer.pad_token_id,
    )
    # the driver checks the space too (check_space), where it can read the encoder's config
    problem = unsupported_dropout(trainer.model.config.model_type, config)
    if problem:
        raise SearchSpaceError(problem)
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as directory:
            trainer.load_checkpoint(directory)
        trainer.apply_config(cfg)  # PBT: the donor's weights, this trial's (perturbed) config
    for epoch in fit(trainer):
        scores, eval_seconds = objective_scores(trainer, epoch.dev_f1, data, payload)
        eval_seconds += epoch.eval_seconds
        metrics = {
            METRIC: scores.pop(METRIC),
            "epoch": epoch.epoch,
            "epoch_seconds": epoch.train_seconds + eval_seconds,
            "train_seconds": epoch.train_seconds,
            "eval_seconds": eval_seconds,
            **scores,
        }
        metrics.update(epoch.stats)
        metrics.update(where)
        metrics.update({f"hp_{k}": getattr(cfg, k) for k in HPARAMS})
        with tempfile.TemporaryDirectory() as directory:
            trainer.save_checkpoint(directory)
            # self-contained, so the export needs no tokenizer (nor transformers) in the driver
            data.tokenizer.save_pretrained(Path(directory) / CHECKPOINT_TOKENIZER)
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))


CHECKPOINT_TOKENIZER = "tokenizer"


def objective_scores(trainer, own_f1: float, data, payload: dict) -> tuple[dict, float]:
    """The trial's score under the study's objective (METRIC) and, for mean and worst, the dev
    F1 of every evaluation variant (``dev_f1_<variant>``), with the seconds the extra dev sets
    took. Objective own reports what it always did: its own variant's dev F1 alone."""
    import time

    objective = payload.get("objective", "own")
    if objective == "own":
        return {METRIC: own_f1}, 0.0
    start = time.perf_counter()
    by_variant = {payload["variant"]: own_f1}
    by_variant.update({v: trainer.evaluate(enc) for v, enc in data.objective_dev.items()})
    scores = {f"dev_f1_{v}": f for v, f in sorted(by_variant.items())}
    scores[METRIC] = objective_value(objective, by_variant, payload["variant"])
    return scores, time.perf_counter() - start


@dataclass
class TrialData:
    tokenizer: Any
    train: Encoded
    dev: Encoded
    objective_dev: dict[str, Encoded]  # the other variants' dev sets (objective mean, worst)


_TRIAL_DATA: dict[str, TrialData] = {}


def encoded_data(payload: dict) -> TrialData:
    """The study's tokeniser and encoded sentences, made once per worker process.

    Encoding here rather than in the driver keeps transformers (and with it torch, 2 s per
    job on the demo machine) out of the driver; the worker imports both for training anyway,
    and the trials of a study share one worker (actors are reused), so each encodes once."""
    from nerhpo.training.model import load_tokenizer

    key = payload["data_key"]
    if key not in _TRIAL_DATA:
        _TRIAL_DATA.clear()  # one study's data at a time
        tokenizer = load_tokenizer(payload["model_dir"])
        label2id = {label: i for i, label in enumerate(payload["labels"])}

        def encoded(sentences):
            return encode(sentences, tokenizer, label2id, payload["max_length"])

        _TRIAL_DATA[key] = TrialData(
            tokenizer,
            encoded(payload["train"]),
            encoded(payload["dev"]),
            {v: encoded(s) for v, s in sorted(payload.get("objective_dev", {}).items())},
        )
    return _TRIAL_DATA[key]
