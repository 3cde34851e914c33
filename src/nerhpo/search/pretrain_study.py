"""The pretraining study (``pretrain_hpo``): HPO of the scratch encoder's MLM pretraining.

Each trial pretrains the scratch encoder (``nerhpo.training.mlm``, the pretrain stage's own
epoch loop) with its sampled hyperparameters for up to ``pretrain_hpo.max_epochs`` epochs (the
fidelity: ASHA's rungs, BOHB's budgets, PBT's perturbation points count pretraining epochs).
After every epoch it records two objectives:

* the **proxy**: the MLM loss (and its perplexity) on a held-out slice of the pretraining text,
  a share ``heldout_fraction`` of the training sentences drawn from the seed, never trained on,
  each with its lowercased copy, masked once with fixed masks (15%) for every trial;
* the **downstream** score: dev F1 of a short fine-tune (``probe.epochs`` epochs, the ``train:``
  defaults) of the encoder as it is after that epoch, on ``probe.family``/``probe.variant``;
  the best dev F1 over those epochs. It is scored every ``probe.every`` epochs and at the last.

``pretrain_hpo.objective`` says which one the scheduler optimises (``proxy``: the held-out
MLM loss, minimised; ``downstream``: dev F1, maximised). The Tune state lives in ``{out}/tune``
and a killed study resumes from it, unless its fingerprint (``study.fingerprint``: every
setting that can change its result and the bytes of its data) changed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from nerhpo.core.atomic import atomic_directory, atomic_write_json, atomic_write_text, make_dirs
from nerhpo.data.casing import lowercase_all
from nerhpo.search.algorithms import search_parts
from nerhpo.search.space import tune_space
from nerhpo.search.study import StudyFailed
from nerhpo.search.tune_files import read_progress, trial_number

log = logging.getLogger(__name__)

PROXY = "heldout_mlm_loss"
PERPLEXITY = "heldout_perplexity"
DOWNSTREAM = "dev_f1"
DOWNSTREAM_LOWERCASED = "dev_f1_lowercased"  # the probe's model on its dev text lowercased
OBJECTIVES = {"proxy": (PROXY, "min"), "downstream": (DOWNSTREAM, "max")}
ALGORITHMS = ("asha", "bohb", "pbt", "random")
# what the study searches, and the MLMSettings field each sets
PRETRAIN_HPARAMS = (
    "learning_rate",
    "mask_probability",
    "warmup_ratio",
    "weight_decay",
    "batch_size",
    "casing",
)
# the keys of pretrain_hpo whose change cannot change the study's result: resources, and the
# fine-tuning study run on its best encoder afterwards (a study of its own)
RESOURCE_KEYS = ("cpus_per_trial", "gpus_per_trial", "finetune")
CHECKPOINT_MLM = "mlm"
ENCODER_DIR = "encoder"


def study_keys() -> tuple[str, ...]:
    """The params keys (dotted) that identify the pretraining study (its stage's settings)."""
    return ("seed", "model.scratch", "model.max_length", "train", "pretrain_hpo")


@dataclass
class PretrainStudy:
    corpus_train: Path  # the pretraining text: the corpus' training split
    data_dir: Path  # the probe's variant: data/variants/{family}/{variant}
    out_dir: Path  # results/pretrain_hpo
    labels: list[str]
    settings: dict  # params["pretrain_hpo"]
    scratch: dict  # params["model"]["scratch"]
    defaults: dict  # params["train"]: the probe's fine-tuning
    max_length: int
    seed: int

    @property
    def tag(self) -> str:
        return f"pretrain_hpo/{self.settings['algorithm']}/{self.settings['objective']}"

    @property
    def metric(self) -> tuple[str, str]:
        return OBJECTIVES[self.settings["objective"]]


def make_pretrain_study(params: dict, corpus_train, data_dir, out_dir) -> PretrainStudy:
    from nerhpo.data.tags import family_labels

    return PretrainStudy(
        corpus_train=Path(corpus_train),
        data_dir=Path(data_dir),
        out_dir=Path(out_dir),
        labels=family_labels(data_dir),
        settings=params["pretrain_hpo"],
        scratch=params["model"]["scratch"],
        defaults=params["train"],
        max_length=params["model"]["max_length"],
        seed=params["seed"],
    )


def study_fingerprint(study: PretrainStudy) -> str:
    """What a saved Tune state is valid for: every setting that can change the study's result
    (not the CPUs or GPUs per trial) and the bytes of its text and data."""
    settings = {k: v for k, v in study.settings.items() if k not in RESOURCE_KEYS}
    digest = hashlib.sha256()
    for item in (settings, study.scratch, study.defaults, study.max_length, study.seed):
        digest.update(repr(item).encode())
    digest.update(repr(study.labels).encode())
    for path in (study.corpus_train, study.data_dir / "train.tsv", study.data_dir / "dev.tsv"):
        digest.update(path.read_bytes())
    return digest.hexdigest() + "\n"


# -- the trainable (runs inside Ray's worker processes) ----------------------------------------
def pretraining(config: dict, payload: dict) -> None:
    """One trial: pretrain for up to max_epochs epochs (resuming from Tune's checkpoint), and
    report both objectives after each epoch."""
    import torch
    from ray import tune

    from nerhpo.training.mlm import MLMSettings, scratch_run

    torch.set_num_threads(max(1, int(payload["threads"])))
    settings = MLMSettings.from_scratch(
        payload["scratch"],
        **{k: config.get(k) for k in PRETRAIN_HPARAMS},
        epochs=payload["max_epochs"],
    )
    run = scratch_run(payload["pretrain_text"], payload["scratch"], payload["seed"], settings)
    run.set_heldout(payload["heldout_text"], payload["seed"] + 1)
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as directory:
            run.load_checkpoint(directory)
    hp = {f"hp_{k}": getattr(settings, k) for k in PRETRAIN_HPARAMS}
    every, last = payload["probe"]["every"], payload["max_epochs"]
    data: dict = {}  # the probe's sentences encoded with this trial's tokenizer, once
    while run.epoch < last:
        start = time.perf_counter()
        mlm_loss = run.train_epoch()
        trained = time.perf_counter()
        proxy = run.heldout_loss()
        scored = time.perf_counter()
        metrics = {
            "epoch": run.epoch,
            "mlm_loss": mlm_loss,
            PROXY: proxy,
            PERPLEXITY: math.exp(min(proxy, 50.0)) if proxy is not None else None,
            "train_seconds": trained - start,
            "proxy_seconds": scored - trained,
            **hp,
        }
        if run.epoch % every == 0 or run.epoch == last:
            scores, metrics["downstream_seconds"] = probe(run, payload, data)
            metrics[DOWNSTREAM], metrics[DOWNSTREAM_LOWERCASED] = scores
        with tempfile.TemporaryDirectory() as directory:
            run.save_checkpoint(directory)
            run.tokenizer.save_pretrained(Path(directory) / CHECKPOINT_MLM)
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))


def probe(run, payload: dict, data: dict) -> tuple[tuple[float, float], float]:
    """The downstream score of the encoder as it is now: the best dev F1 of a short fine-tune
    with the default hyperparameters, and that epoch's model's dev F1 on the dev text
    lowercased (what the pretraining text's casing does to casing robustness); and the seconds
    spent. The run's random state is kept: the pretraining goes on as if no probe had been
    made. ``data`` keeps the encoded sentences."""
    import torch

    from nerhpo.training.encoding import TrialConfig, encode
    from nerhpo.training.trainer import fit, new_trainer

    start = time.perf_counter()
    label2id = {label: i for i, label in enumerate(payload["labels"])}
    for split in ("probe_train", "probe_dev", "probe_dev_lowercased"):
        if split not in data:
            data[split] = encode(payload[split], run.tokenizer, label2id, payload["max_length"])
    train, dev, lowered = data["probe_train"], data["probe_dev"], data["probe_dev_lowercased"]
    config = TrialConfig.from_dict(
        {**payload["defaults"], "epochs": payload["probe"]["epochs"], "seed": payload["seed"]}
    )
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with tempfile.TemporaryDirectory() as directory, torch.random.fork_rng(devices=devices):
        run.save_encoder(directory)
        trainer = new_trainer(
            directory, payload["labels"], train, dev, config, run.tokenizer.pad_token_id
        )
        best, best_lowered = -1.0, 0.0
        for epoch in fit(trainer):
            if epoch.dev_f1 > best:
                best, best_lowered = epoch.dev_f1, trainer.evaluate(lowered)
    run.model.train()
    return (float(best), float(best_lowered)), time.perf_counter() - start


# -- the driver -------------------------------------------------------------------------------
def prepare_payload(study: PretrainStudy) -> dict:
    """Everything a trial needs, read once here (no torch in the driver)."""
    from nerhpo.data.corpus import read_corpus
    from nerhpo.training.mlm import heldout_split

    sentences = [s.tokens for s in read_corpus(study.corpus_train)]
    text, heldout = heldout_split(sentences, study.settings["heldout_fraction"], study.seed)
    return {
        "pretrain_text": text,
        # the held-out sentences as they are and lowercased: the same text for every casing
        "heldout_text": heldout + [[w.lower() for w in s] for s in heldout],
        "scratch": study.scratch,
        "labels": study.labels,
        "probe_train": read_corpus(study.data_dir / "train.tsv"),
        "probe_dev": read_corpus(study.data_dir / "dev.tsv"),
        "probe_dev_lowercased": [lowercase_all(s) for s in read_corpus(study.data_dir / "dev.tsv")],
        "probe": study.settings["probe"],
        "defaults": study.defaults,
        "max_length": study.max_length,
        "max_epochs": study.settings["max_epochs"],
        "seed": study.seed,
        "threads": study.settings["cpus_per_trial"],
    }


def init_ray(study: PretrainStudy) -> None:
    import ray

    if ray.is_initialized():
        return
    settings = study.settings
    cpus = settings["concurrency"] * settings["cpus_per_trial"]
    gpus = math.ceil(settings["concurrency"] * settings["gpus_per_trial"])
    ray.init(
        num_cpus=cpus,
        num_gpus=gpus,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
        configure_logging=True,
    )


def keep_or_drop_saved_state(study: PretrainStudy, fingerprint: str) -> None:
    from nerhpo.search.runner import drop_stale_state

    def matches(stamp: Path) -> bool:
        return stamp.exists() and stamp.read_text() == fingerprint

    drop_stale_state(study.tag, study.out_dir.resolve(), fingerprint, matches)


def hpo_settings(study: PretrainStudy) -> dict:
    """The pretraining study's settings as search_parts reads a fine-tuning study's hpo block."""
    return dict(study.settings)  # max_epochs, concurrency and one block per algorithm


def make_tuner(study: PretrainStudy, fn, storage):
    from nerhpo.search.runner import restored_or_new_tuner

    def parts():
        s = study.settings
        space = tune_space(s["search_space"])
        search_alg, scheduler = search_parts(s["algorithm"], hpo_settings(study), space, study.seed)
        metric, mode = study.metric
        return {
            "param_space": space,
            "metric": metric,
            "mode": mode,
            "num_samples": s["num_samples"],
            "concurrency": s["concurrency"],
            "search_alg": search_alg,
            "scheduler": scheduler,
            "progress": _progress(study),
            "max_epochs": s["max_epochs"],
        }

    return restored_or_new_tuner(study.tag, fn, study.out_dir.resolve(), storage, parts)


def _progress(study: PretrainStudy):
    from ray.tune import Callback

    class Progress(Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            f1 = result.get(DOWNSTREAM)
            proxy = result.get(PROXY)
            print(
                f"[{study.tag}] trial {trial.trial_id} epoch {result.get('training_iteration')}/"
                f"{study.settings['max_epochs']}: MLM loss {result.get('mlm_loss', 0):.3f}, "
                + (f"held-out {proxy:.3f}" if proxy is not None else "no held-out text")
                + (f", dev F1 {f1:.4f}" if f1 is not None else ""),
                flush=True,
            )

        def on_trial_complete(self, iteration, trials, trial, **info):
            print(f"[{study.tag}] trial {trial.trial_id} done", flush=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            print(f"[{study.tag}] trial {trial.trial_id} FAILED", flush=True)

    return Progress()


def run_pretrain_study(study: PretrainStudy) -> dict:
    """Run (or resume) the pretraining study; write trials.csv, best.json, encoder/ and
    summary.json into its folder."""
    from nerhpo.search.runner import set_tune_environment

    set_tune_environment()
    from ray import tune

    from nerhpo.search.ray_compat import atomic_storage, stage_driver_files_apart

    out = study.out_dir.resolve()
    make_dirs(out)
    started = time.time()
    fingerprint = study_fingerprint(study)
    payload = prepare_payload(study)
    init_ray(study)
    stage_driver_files_apart()
    s = study.settings
    resources = {"cpu": s["cpus_per_trial"], "gpu": s["gpus_per_trial"]}
    fn = tune.with_resources(tune.with_parameters(pretraining, payload=payload), resources)
    keep_or_drop_saved_state(study, fingerprint)
    result_grid = make_tuner(study, fn, atomic_storage()).fit()
    table = trials_table(result_grid, s["max_epochs"])
    atomic_write_text(out / "trials.csv", table.to_csv(index=False))
    errors = {r.trial_id: r.error for r in table.itertuples() if r.error}
    if table.empty or len(errors) == table.trial_id.nunique():
        raise StudyFailed(f"{study.tag}: no trial finished: {errors}")
    best = export_best(study, result_grid, table, out)
    prune_checkpoints(out / "tune", study.metric)
    summary = {
        "trials": int(table.trial_id.nunique()),
        "failed": len(errors),
        "epochs": len(table),
        "objective": s["objective"],
        "best": {k: best[k] for k in ("trial_id", "epoch", PROXY, DOWNSTREAM)},
        "wall_seconds": round(time.time() - started, 1),
        "proxy_seconds": round(float(table.proxy_seconds.sum()), 1),
        "downstream_seconds": round(float(table.downstream_seconds.fillna(0).sum()), 1),
    }
    atomic_write_json(out / "summary.json", summary)
    print(
        f"[{study.tag}] finished: {summary['trials']} trials, {summary['epochs']} epochs; best "
        f"(by {s['objective']}) trial {best['trial_id']} epoch {best['epoch']}: held-out MLM "
        f"loss {best[PROXY]:.4f}, dev F1 {best[DOWNSTREAM]}; {summary['wall_seconds']:.0f} s",
        flush=True,
    )
    return summary


# what each trial reports per epoch, as trials.csv lists it
REPORTED = (
    "mlm_loss",
    PROXY,
    PERPLEXITY,
    DOWNSTREAM,
    DOWNSTREAM_LOWERCASED,
    "train_seconds",
    "proxy_seconds",
    "downstream_seconds",
    "checkpoint_dir_name",
)
TABLE_COLUMNS = ("trial", "trial_id", "status", "epoch", *PRETRAIN_HPARAMS, *REPORTED, "error")


def trials_table(result_grid, max_epochs: int):
    """One row per trial and reported epoch: its hyperparameters and both objectives."""
    import pandas as pd

    from nerhpo.search.ray_compat import trial_ids

    ids = trial_ids(result_grid)
    rows = []
    for result in result_grid:
        number = trial_number(result.path)
        trial_id = ids.get(result.path) or (result.metrics or {}).get("trial_id")
        progress = read_progress(result.path or "")
        history = progress if not progress.empty else result.metrics_dataframe
        epochs = int((result.metrics or {}).get("training_iteration", 0) or 0)
        status = "ERROR" if result.error else "STOPPED" if epochs < max_epochs else "TERMINATED"
        error = str(result.error).strip().splitlines()[-1][:300] if result.error else ""
        if history is None or history.empty:
            rows.append({"trial": number, "trial_id": trial_id, "status": status, "error": error})
            continue
        # a resumed trial may have reported an epoch twice: keep its last report
        history = history.drop_duplicates("training_iteration", keep="last")
        for _, h in history.iterrows():
            row = {"trial": number, "trial_id": trial_id, "status": status}
            row["epoch"] = int(h["training_iteration"])
            row.update({k: h.get(f"hp_{k}") for k in PRETRAIN_HPARAMS})
            row.update({k: h.get(k) for k in REPORTED})
            row["error"] = error
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    return table.sort_values(["trial", "trial_id", "epoch"]).reset_index(drop=True)


def export_best(study: PretrainStudy, result_grid, table, out: Path) -> dict:
    """best.json and encoder/: the best (trial, epoch) by the objective (ties: the earliest
    epoch, then the first-created trial), exported as an encoder fine-tuning loads."""
    import pandas as pd

    metric, mode = study.metric
    scored = table.dropna(subset=[metric])
    if scored.empty:
        raise StudyFailed(f"{study.tag}: no trial reported {metric}")
    key = scored[metric] if mode == "max" else -scored[metric]
    order = pd.DataFrame({"k": -key, "epoch": scored.epoch, "trial": scored.trial})
    row = scored.loc[order.sort_values(["k", "epoch", "trial"]).index[0]]
    trial_dir = next(Path(r.path) for r in result_grid if trial_number(r.path) == int(row["trial"]))
    checkpoint = trial_dir / str(row["checkpoint_dir_name"])
    best = {
        "objective": study.settings["objective"],
        "metric": metric,
        "trial_id": row["trial_id"],
        "trial": int(row["trial"]),
        "epoch": int(row["epoch"]),
        PROXY: float(row[PROXY]),
        PERPLEXITY: float(row[PERPLEXITY]),
        DOWNSTREAM: None if pd.isna(row[DOWNSTREAM]) else float(row[DOWNSTREAM]),
        "config": {k: _plain(row[k]) for k in PRETRAIN_HPARAMS},
        "probe": study.settings["probe"],
        "seed": study.seed,
    }
    export_encoder(checkpoint, out / ENCODER_DIR, best)
    atomic_write_json(out / "best.json", best)
    return best


def export_encoder(checkpoint: Path, target: Path, best: dict) -> None:
    """The checkpoint's encoder without its MLM head, and its tokenizer (what the pretrain
    stage writes to results/pretrained/)."""
    from transformers import AutoModelForMaskedLM

    from nerhpo.training.model import load_tokenizer, quiet_transformers

    quiet_transformers()
    source = checkpoint / CHECKPOINT_MLM
    model = AutoModelForMaskedLM.from_pretrained(
        str(source), use_safetensors=True, local_files_only=True
    )
    with atomic_directory(target) as tmp:
        model.base_model.save_pretrained(tmp, safe_serialization=True)
        load_tokenizer(source).save_pretrained(tmp)
        atomic_write_json(tmp / "pretrain.json", {"pretrain_hpo_best": best})


def _plain(value):
    """A table cell as JSON takes it (numpy scalars as Python numbers)."""
    return value.item() if hasattr(value, "item") else value


def prune_checkpoints(tune_dir: Path, metric: tuple[str, str]) -> None:
    """Keep per trial its latest checkpoint (resume) and its best one by the objective."""
    import pandas as pd

    name, mode = metric
    for trial_dir in tune_dir.glob("*/"):
        checkpoints = sorted(trial_dir.glob("checkpoint_*"))
        rows = read_progress(trial_dir) if len(checkpoints) > 1 else pd.DataFrame()
        if rows.empty or name not in rows or not rows[name].notna().any():
            continue
        best = rows[name].idxmax() if mode == "max" else rows[name].idxmin()
        keep = {checkpoints[-1].name, rows.loc[best, "checkpoint_dir_name"]}
        for checkpoint in checkpoints:
            if checkpoint.name not in keep:
                shutil.rmtree(checkpoint)
