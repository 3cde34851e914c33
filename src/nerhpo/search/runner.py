"""Running (or resuming) one study through Ray Tune, and writing its results.

The Tune state lives in ``{out}/tune`` so a killed job resumes with ``Tuner.restore``;
``trials.csv``, ``best.json`` and ``model/`` are written only when the study ends.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import pandas as pd

from nerhpo.core.atomic import (
    atomic_directory,
    atomic_write_json,
    atomic_write_text,
    make_dirs,
)
from nerhpo.core.hparams import HPARAMS
from nerhpo.search.algorithms import search_parts
from nerhpo.search.identity import saved_state_matches, study_fingerprint
from nerhpo.search.space import check_space, grid_space, tune_space
from nerhpo.search.study import METRIC, Study, StudyFailed
from nerhpo.search.trainable import CHECKPOINT_TOKENIZER, trainable
from nerhpo.search.tune_files import read_progress, trial_number
from nerhpo.training.encoding import TrialConfig

log = logging.getLogger(__name__)


# -- running a study ------------------------------------------------------------------------
def tune_state_readable(tune_dir: Path) -> bool:
    """Whether the newest experiment state Tune would resume from is complete JSON."""
    import json

    states = sorted(tune_dir.glob("experiment_state-*.json"))
    if not states:
        return False
    try:
        json.loads(states[-1].read_text())
    except (OSError, ValueError):
        return False
    return True


def _progress_callback(study: Study):
    from ray.tune import Callback

    total = study.hpo["num_samples"]

    planned = total * study.hpo["max_epochs"]
    at_once = max(1, study.hpo["concurrency"])

    class Progress(Callback):
        """One line per epoch and per finished trial instead of Ray's tables. The ETA is an
        upper bound: the epochs not yet run, as if no trial were stopped early, at the mean
        epoch time measured so far, ``concurrency`` at a time."""

        def __init__(self):
            self.done = 0
            self.epochs = 0
            self.seconds = 0.0
            self.best = None

        def on_trial_result(self, iteration, trials, trial, result, **info):
            self.epochs += 1
            self.seconds += float(result.get("epoch_seconds") or 0.0)
            f1 = result.get(METRIC)
            if f1 is not None and (self.best is None or f1 > self.best):
                self.best = f1
            line = epoch_line(trial.trial_id, result, study.hpo["max_epochs"], self)
            print(f"[{study.tag}] {line}", flush=True)

        def eta_seconds(self) -> float:
            mean = self.seconds / max(1, self.epochs)
            return max(0, planned - self.epochs) * mean / at_once

        def _line(self, trial, status):
            self.done += 1
            result = trial.last_result or {}
            hp = ", ".join(f"{k}={_fmt(trial.config[k])}" for k in HPARAMS if k in trial.config)
            f1 = result.get(METRIC)
            f1s = f"dev F1 {f1:.4f}" if f1 is not None else "no result"
            print(
                f"[{study.tag}] trial {self.done}/{total} {trial.trial_id} {status}: {f1s} after "
                f"{result.get('training_iteration', 0)} epoch(s), "
                f"{result.get('time_total_s', 0):.1f} s ({hp})",
                flush=True,
            )

        def on_trial_complete(self, iteration, trials, trial, **info):
            self._line(trial, "done")

        def on_trial_error(self, iteration, trials, trial, **info):
            self._line(trial, "FAILED")
            error = _trial_error(trial)
            if error is not None:
                print(f"[{study.tag}] trial {trial.trial_id}: {_one_line(error)}", flush=True)

    return Progress()


def epoch_line(trial_id: str, result: dict, max_epochs: int, progress) -> str:
    """The epoch's line in the study's log: trial, epoch, training loss, dev F1, training speed,
    and the study so far (epochs, best dev F1, ETA)."""
    seconds = float(result.get("train_seconds") or 0.0)
    tokens = result.get("train_tokens")
    speed = f", {tokens / seconds:,.0f} training tokens/s" if tokens and seconds > 0 else ""
    loss = result.get("train_loss")
    f1 = result.get(METRIC)
    return (
        f"trial {trial_id} epoch {result.get('training_iteration', '?')}/{max_epochs}: "
        + (f"loss {loss:.3f}, " if loss is not None else "")
        + (f"dev F1 {f1:.4f}" if f1 is not None else "no dev F1")
        + f"{speed}; study: {progress.epochs} epoch(s) done, best {progress.best or 0:.4f}, "
        f"ETA <= {progress.eta_seconds():.0f} s"
    )


def _trial_error(trial) -> BaseException | None:
    """The error Tune just recorded for a trial (its pickled exception in the trial's folder)."""
    import cloudpickle

    try:
        with open(trial.pickled_error_file, "rb") as handle:
            return cloudpickle.load(handle)
    except Exception:  # no pickled error (or not loadable): the text Tune wrote instead
        try:
            text = Path(trial.error_file).read_text().strip()
        except (OSError, TypeError):
            return None
        return RuntimeError(text) if text else None


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def init_ray(study: Study) -> None:
    import ray

    if ray.is_initialized():
        return
    from nerhpo.search.ray_head import head_address

    # PBT's population takes turns on a Ray sized to the study (concurrency x cpus_per_trial):
    # on the pipeline's shared head its waiting trials would take every free CPU
    shared = head_address() if study.algorithm != "pbt" else None
    address = study.hpo.get("ray_address") or shared
    kwargs = dict(
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
        configure_logging=True,
    )
    if address:
        try:
            ray.init(address=address, **kwargs)
            log.info("joined the Ray cluster at %s", address)
            return
        except ConnectionError as err:
            log.warning("no Ray cluster at %s (%s); starting a local Ray", address, err)
    cpus = study.hpo["concurrency"] * study.hpo["cpus_per_trial"]
    ray.init(num_cpus=cpus, num_gpus=study.hpo["gpus_per_job"], **kwargs)


def prepare_payload(study: Study, data_key: str) -> dict:
    """Everything a trial needs: the sentences, read once here; the workers encode them."""
    from nerhpo.data.corpus import read_corpus

    return {
        # absolute: Ray runs trials in their own working directories
        "model_dir": str(Path(study.model_dir).resolve())
        if Path(study.model_dir).exists()
        else str(study.model_dir),
        "labels": study.labels,
        "train": read_corpus(study.data_dir / "train.tsv"),
        "dev": read_corpus(study.data_dir / "dev.tsv"),
        "variant": study.variant,
        "objective": study.objective,
        # the other variants' dev sets, which objective mean or worst also scores each epoch
        "objective_dev": {v: read_corpus(f) for v, f in study.objective_dev_files.items()},
        "max_length": study.max_length,
        "data_key": data_key,  # names this study's data in the workers' cache
        "defaults": {
            **{k: study.defaults[k] for k in HPARAMS},
            "batch_order": study.defaults.get("batch_order", TrialConfig.batch_order),
        },
        "max_epochs": study.hpo["max_epochs"],
        "seed": study.seed,
        "threads": study.hpo["cpus_per_trial"],
    }


def set_tune_environment() -> None:
    """Tune's and Hugging Face's settings for a study's driver and its workers."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # Tune saves its experiment state (what a resume starts from) and copies the trials'
    # progress.csv into tune/ at most this often; its default ("auto", at least 10 s) made a
    # killed study redo up to 10 s of epochs and left progress.csv stale. Each save took a few
    # ms here (a tiny study ran 32-34 s either way)
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded at run time


def keep_or_drop_saved_state(study: Study, out: Path, fingerprint: str) -> None:
    """Drop the saved Tune state unless it is this study's (its identity and data unchanged)
    and complete; then stamp the folder with the study's fingerprint."""
    drop_stale_state(
        study.tag, out, fingerprint, lambda stamp: saved_state_matches(stamp, study, fingerprint)
    )


def drop_stale_state(tag: str, out: Path, fingerprint: str, matches) -> None:
    """Drop ``out``/tune unless ``matches(stamp)`` says it was saved under ``fingerprint`` and
    it is complete; then write the stamp. Every kind of study resumes through this."""
    tune_dir, stamp = out / "tune", out / "study.fingerprint"
    if tune_dir.exists() and not matches(stamp):
        print(f"[{tag}] settings or data changed: starting the study afresh", flush=True)
        shutil.rmtree(tune_dir)
    atomic_write_text(stamp, fingerprint)
    if tune_dir.exists() and not tune_state_readable(tune_dir):
        # a Tune state written before states were written atomically, cut off by a kill
        print(
            f"[{tag}] the saved Tune state in {tune_dir} is incomplete: starting the study afresh",
            flush=True,
        )
        shutil.rmtree(tune_dir)


def make_tuner(study: Study, fn, out: Path, storage):
    """Tune's Tuner for the study: restored from its saved state if there is one, else new."""
    hpo, space = study.hpo, study.hpo["search_space"]
    grid = study.algorithm == "grid"

    def parts():
        search_alg, scheduler = search_parts(study.algorithm, hpo, tune_space(space), study.seed)
        return {
            "param_space": grid_space(space, study.defaults) if grid else tune_space(space),
            "metric": METRIC,
            "mode": "max",
            "num_samples": 1 if grid else hpo["num_samples"],
            "concurrency": hpo["concurrency"],
            "search_alg": search_alg,
            "scheduler": scheduler,
            "progress": _progress_callback(study),
            "max_epochs": hpo["max_epochs"],
        }

    return restored_or_new_tuner(study.tag, fn, out, storage, parts)


def restored_or_new_tuner(tag: str, fn, out: Path, storage, parts):
    """A Tuner restored from ``out``/tune if a state is saved there, else a new one from
    ``parts()`` (param_space, metric, mode, num_samples, concurrency, search_alg, scheduler,
    progress callback, max_epochs): the one Tune set-up of every kind of study."""
    from ray import tune
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    tune_dir = out / "tune"
    # Tune adds a TensorBoard logger by default, and importing tensorboardX imports torch:
    # 1.1 s of every HPO job's driver (python -X importtime) for event files nobody reads. A
    # new study names the CSV and JSON loggers, which it reads back, and turns Tune's automatic
    # ones off. A resumed study keeps them on: one saved by an older version names none.
    restoring = tune.Tuner.can_restore(str(tune_dir), storage_filesystem=storage)
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "0" if restoring else "1"
    if restoring:
        print(f"[{tag}] resuming the study saved in {tune_dir}", flush=True)
        return tune.Tuner.restore(
            str(tune_dir), trainable=fn, resume_errored=False, storage_filesystem=storage
        )
    p = parts()
    return tune.Tuner(
        fn,
        param_space=p["param_space"],
        tune_config=tune.TuneConfig(
            metric=p["metric"],
            mode=p["mode"],
            num_samples=p["num_samples"],
            max_concurrent_trials=p["concurrency"],
            search_alg=p["search_alg"],
            scheduler=p["scheduler"],
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(out),
            storage_filesystem=storage,
            verbose=0,
            callbacks=[p["progress"], CSVLoggerCallback(), JsonLoggerCallback()],
            checkpoint_config=tune.CheckpointConfig(
                # every checkpoint while the study runs; prune_checkpoints keeps the best
                # and the latest per trial when it ends. Deleting earlier loses resumes: Tune
                # saves its experiment state only now and then, and a SIGKILL after it had
                # deleted the checkpoint that the saved state names left a trial that
                # "could not recover from checkpoint" (seen in the dvc kill-and-resume
                # test). PBT needs them anyway: a trial may restore a donor's checkpoint.
                num_to_keep=None,
                checkpoint_score_attribute=p["metric"],
                checkpoint_score_order=p["mode"],
            ),
            failure_config=tune.FailureConfig(max_failures=0),
            # a trial at its last epoch is done before a scheduler sees the result (PBT
            # would otherwise still exploit, and restart it from an earlier epoch)
            stop={"training_iteration": p["max_epochs"]},
        ),
    )


def run_study(study: Study) -> dict:
    """Run (or resume) one study and write trials.csv, best.json, model/ and summary.json."""
    set_tune_environment()
    from ray import tune

    # checks, before any training, that the Ray internals its workarounds patch are there
    from nerhpo.search.ray_compat import atomic_storage, stage_driver_files_apart

    hpo = study.hpo
    out = study.out_dir.resolve()
    make_dirs(out)  # an unwritable results folder fails here, before any training
    started = time.time()
    fingerprint = study_fingerprint(study)
    payload = prepare_payload(study, fingerprint)
    check_space(hpo["search_space"], study.model_dir)  # before Ray starts: one line, no trial
    init_ray(study)
    stage_driver_files_apart()
    resources = {"cpu": hpo["cpus_per_trial"], "gpu": hpo["gpus_per_trial"]}
    fn = tune.with_resources(tune.with_parameters(trainable, payload=payload), resources)
    keep_or_drop_saved_state(study, out, fingerprint)
    tuner = make_tuner(study, fn, out, atomic_storage())
    # PBT seeds each of its own decisions (SeededPBT). Tune does not save PBT's state (last
    # scores, perturbation times): after a resume, its decisions can differ from an
    # uninterrupted run's
    grid_result = tuner.fit()
    table = trials_table(grid_result, hpo["max_epochs"])
    atomic_write_text(out / "trials.csv", table.to_csv(index=False))
    if table[table.status != "ERROR"].empty:
        errors = "; ".join(f"{r.trial_id}: {r.error}" for r in table.itertuples())
        raise StudyFailed(f"{study.tag}: no trial finished ({len(table)} failed): {errors}")
    best = export_best(study, grid_result, out)
    freed = prune_checkpoints(out / "tune")
    summary = study_summary(table, best, grid_result, out, time.time() - started, freed)
    atomic_write_json(out / "summary.json", summary)
    print(
        f"[{study.tag}] finished: {summary['trials']} trials ({summary['failed']} failed, "
        f"{summary['stopped_early']} stopped early), {summary['epochs']} epochs, best dev F1 "
        f"{best['dev_f1']:.4f} (trial {best['trial_id']}, epoch {best['epoch']}), "
        f"{summary['wall_seconds']:.0f} s, {summary['disk_mb_final']} MB on disk",
        flush=True,
    )
    return summary


def study_summary(table, best: dict, grid_result, out: Path, wall: float, freed: int) -> dict:
    """summary.json: trials, epochs, the best dev F1, where the time went and the disk used."""
    final_bytes = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    train_s, eval_s = epoch_seconds(grid_result)
    return {
        "trials": len(table),
        "failed": int((table.status == "ERROR").sum()),
        "stopped_early": int((table.status == "STOPPED").sum()),
        "epochs": int(table.epochs.sum()),
        "best_dev_f1": best["dev_f1"],
        "wall_seconds": round(wall, 1),
        # where the time went: training and dev evaluation inside the trials; the rest of
        # wall_seconds is Ray start-up, trial start-up, checkpointing and tokenisation
        "train_seconds": round(train_s, 1),
        "eval_seconds": round(eval_s, 1),
        "eval_share": round(eval_s / wall, 3) if wall else None,
        "overhead_share": round(max(0.0, 1 - (train_s + eval_s) / wall), 3) if wall else None,
        # disk: what the job keeps, and at least what it held before pruning checkpoints
        "disk_mb_final": round(final_bytes / 1e6, 1),
        "disk_mb_peak_at_least": round((final_bytes + freed) / 1e6, 1),
    }


def epoch_seconds(grid_result) -> tuple[float, float]:
    """Seconds spent training and evaluating, summed over every reported epoch of the study."""
    train = evaluate = 0.0
    for result in grid_result:
        history = result.metrics_dataframe
        if history is not None and "train_seconds" in history:
            train += float(history["train_seconds"].fillna(0).sum())
            evaluate += float(history["eval_seconds"].fillna(0).sum())
    return train, evaluate


def prune_checkpoints(tune_dir: Path) -> int:
    """Keep per trial only its latest checkpoint (resume) and its best one; return bytes freed."""
    freed = 0
    for trial_dir in tune_dir.glob("*/"):
        checkpoints = sorted(trial_dir.glob("checkpoint_*"))
        rows = read_progress(trial_dir) if len(checkpoints) > 1 else pd.DataFrame()
        if rows.empty:
            continue
        keep = {checkpoints[-1].name}
        if METRIC in rows and "checkpoint_dir_name" in rows and rows[METRIC].notna().any():
            keep.add(rows.loc[rows[METRIC].idxmax(), "checkpoint_dir_name"])
        for checkpoint in checkpoints:
            if checkpoint.name not in keep:
                freed += sum(f.stat().st_size for f in checkpoint.rglob("*") if f.is_file())
                shutil.rmtree(checkpoint)
    return freed


def trials_table(grid_result, max_epochs: int) -> pd.DataFrame:
    """One row per trial: config, status, epochs run, best dev F1, wall seconds, error."""
    from nerhpo.search.ray_compat import trial_ids

    rows = []
    ids = trial_ids(grid_result)
    for result in grid_result:
        history = result.metrics_dataframe
        metrics = result.metrics or {}
        trial_id = ids.get(result.path) or metrics.get("trial_id")
        number = trial_number(result.path)
        epochs = int(metrics.get("training_iteration", 0) or 0)
        if result.error is not None:
            status = "ERROR"
        elif epochs < max_epochs:
            status = "STOPPED"
        else:
            status = "TERMINATED"
        best = best_reported(result, history)
        row = {"trial": number, "trial_id": trial_id, "status": status, "epochs": epochs}
        row["best_dev_f1"] = best
        row.update({k: result.config.get(k) for k in HPARAMS})
        row["wall_seconds"] = round(float(metrics.get("time_total_s", 0.0) or 0.0), 2)
        # the Ray node of the trial's last report (empty if it failed before its first epoch)
        row["node"] = metrics.get("node") or ""
        row["node_ip"] = metrics.get("node_ip") or ""  # Tune's own field
        row["error"] = _one_line(result.error) if result.error is not None else ""
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["trial", "trial_id"]).reset_index(drop=True)


def best_reported(result, history) -> float | None:
    """A trial's best dev F1 over everything it reported. Not from result.json alone (behind
    ``metrics_dataframe``): with PBT, Tune restores a trial's result.json from the storage copy,
    which can be older, and CI saw a PBT trial whose result.json was empty while its
    progress.csv and checkpoints held all ten results."""
    scores = []
    if history is not None and METRIC in history:
        scores += history[METRIC].dropna().tolist()
    progress = read_progress(result.path or "")
    if METRIC in progress:
        scores += progress[METRIC].dropna().tolist()
    scores += [m[METRIC] for _, m in result.best_checkpoints or [] if m.get(METRIC) is not None]
    return float(max(scores)) if scores else None


def _one_line(error: BaseException) -> str:
    died = _process_died(error)
    if died:
        return died
    text = str(error).strip().splitlines()
    last = [line for line in text if line.strip()][-1] if text else type(error).__name__
    return last[:300]


def _process_died(error: BaseException) -> str | None:
    """A clear line for a trial whose worker process died (SIGKILL, the kernel's OOM killer, a
    segfault) or that Ray's memory monitor killed; None for an exception raised in the trial."""
    import re

    from ray.exceptions import OutOfMemoryError, RayActorError

    text = str(error)
    if isinstance(error, OutOfMemoryError):
        return "killed by Ray's memory monitor: the node ran low on memory (see Ray's logs)"
    if not isinstance(error, RayActorError) and "The actor died" not in text:
        return None
    if "creation task" in text:  # an exception in the trial's set-up, not a dead process
        return None
    pid = re.search(r"\bpid: (\d+)", text)
    ip = re.search(r"\bip: (\S+)", text)
    where = ""
    if pid:
        where = f" (pid {pid.group(1)} on {ip.group(1)})" if ip else f" (pid {pid.group(1)})"
    detail = re.search(r"Worker exit detail: (.*?\.)(?: |$)", text)
    detail = f"; Ray: {detail.group(1)}" if detail else ""
    return (
        f"the trial's process{where} died while training: killed from outside (e.g. by the "
        f"kernel's OOM killer, see dmesg) or crashed{detail}"
    )[:300]


def export_best(study: Study, grid_result, out: Path) -> dict:
    """Copy the best checkpoint (weights, tokenizer, label map) to model/ and write best.json."""
    from nerhpo.search.ray_compat import trial_ids
    from nerhpo.training.model import load_tokenizer
    from nerhpo.training.model_card import write_model_card

    candidates = []
    ids = trial_ids(grid_result)
    for result in grid_result:
        number = trial_number(result.path)
        for checkpoint, metrics in result.best_checkpoints or []:
            metrics = {**metrics, "trial_id": ids.get(result.path) or metrics.get("trial_id")}
            epoch = metrics["training_iteration"]
            candidates.append((-metrics[METRIC], epoch, number, checkpoint, metrics))
    if not candidates:
        raise StudyFailed(f"{study.tag}: no checkpoint was saved")
    # highest dev F1, then the earliest epoch, then the first-created trial: ties (common while
    # a small model still scores 0.0) must depend neither on the order Tune lists trials (an
    # uninterrupted and a resumed study differ) nor on trial ids (a searcher draws them at random)
    negative_f1, _, _, checkpoint, metrics = min(candidates, key=lambda c: c[:3])
    f1 = -negative_f1
    config = {k: metrics[f"hp_{k}"] for k in HPARAMS}
    best = {
        "family": study.family,
        "train_variant": study.variant,
        "algorithm": study.algorithm,
        "trial_id": metrics["trial_id"],
        "dev_f1": f1,
        "epoch": int(metrics["training_iteration"]),
        "config": config,
        "seed": study.seed,
    }
    if study.objective != "own":  # dev_f1 is then the objective's value; its parts beside it
        best["objective"] = study.objective
        best["dev_f1_by_variant"] = {
            k.removeprefix(f"{METRIC}_"): float(v)
            for k, v in sorted(metrics.items())
            if k.startswith(f"{METRIC}_") and k != f"{METRIC}_own"
        }
    with atomic_directory(out / "model") as tmp:
        with checkpoint.as_directory() as directory:
            for name in ("model.safetensors", "config.json"):
                shutil.copy2(Path(directory) / name, tmp / name)
            tokenizer = Path(directory) / CHECKPOINT_TOKENIZER
            if tokenizer.is_dir():
                for path in tokenizer.iterdir():
                    shutil.copy2(path, tmp / path.name)
            else:  # a checkpoint written before checkpoints carried the tokenizer
                load_tokenizer(study.model_dir).save_pretrained(tmp)
        atomic_write_json(tmp / "labels.json", study.labels)
        write_model_card(tmp, best, study.labels, study.corpus, str(study.model_dir))
    atomic_write_json(out / "best.json", best)
    return best
