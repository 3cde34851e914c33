"""What the HPO jobs of a whole run cost at a chosen scale: measured on a few, projected to all.

Why: the HPO jobs (18 by default) are most of a run's time, and whether a machine can afford
them (for example 18 jobs within 60 GPU-minutes at GermEval size on a BERT-base encoder) is
known only by running some. This runs one study per algorithm exactly as the pipeline's jobs run
them (each stage script in its own process: corpus, one variant, pretraining, one HPO job per
algorithm), from a demo corpus of the chosen size, times every job, and projects the jobs of all
tag families x training variants, assuming the variants cost alike (they hold the same sentences).

A killed measurement resumes: every finished step and its time are kept in ``steps.json`` in the
work folder, and the next run starts at the first unfinished step (an HPO job resumes its study).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from nerhpo.core.atomic import atomic_write_json, atomic_write_text
from nerhpo.core.config import validate_params
from nerhpo.core.result_files import read_json

log = logging.getLogger(__name__)
TARGET_GPU_MINUTES = 60  # issue 6: the default 18 jobs within an hour of one GPU


class StepFailed(RuntimeError):
    """A stage script of the measurement exited non-zero (its log's last lines are in the text)."""


@dataclass(frozen=True)
class Scale:
    """The size of the measured studies; the defaults are the GPU figure's (GermEval size)."""

    train_sentences: int = 24000
    dev_sentences: int = 2200
    size: str = "base"  # nerhpo.measure.benchmark.SIZES: micro, tiny or base
    trials: int = 20
    max_epochs: int | None = None  # None: params' hpo.max_epochs
    pretrain_epochs: int = 1
    concurrency: int = 4
    cpus_per_trial: int = 1
    gpus_per_trial: float = 0.25

    @property
    def gpus_per_job(self) -> int:
        return math.ceil(self.concurrency * self.gpus_per_trial - 1e-9)


def scaled_params(params: dict, scale: Scale) -> dict:
    """``params`` with the demo corpus, the scratch encoder and the HPO budget set to ``scale``."""
    from nerhpo.measure.benchmark import SIZES

    if scale.size not in SIZES:
        raise ValueError(f"size {scale.size!r} is not one of {', '.join(SIZES)}")
    p = copy.deepcopy(params)
    p["corpus"]["source"] = "demo"
    p["corpus"]["demo"] = {
        "train_sentences": scale.train_sentences,
        "dev_sentences": scale.dev_sentences,
        "test_sentences": min(300, scale.dev_sentences),  # no HPO job reads the test split
    }
    p["model"]["name_or_path"] = "scratch"
    p["model"]["scratch"].update(SIZES[scale.size], pretrain_epochs=scale.pretrain_epochs)
    p["hpo"].update(
        num_samples=scale.trials,
        concurrency=scale.concurrency,
        cpus_per_trial=scale.cpus_per_trial,
        gpus_per_trial=scale.gpus_per_trial,
        gpus_per_job=scale.gpus_per_job,
        ray_address="",
    )
    if scale.max_epochs is not None:
        p["hpo"]["max_epochs"] = scale.max_epochs
    return validate_params(p, "the scaled params")


def steps(family: str, variant: str, algorithms: Sequence[str], threads: int) -> list[tuple]:
    """(name, stage script and its arguments, the file that shows the step finished)."""
    from nerhpo.core import layout
    from nerhpo.pipeline.stages import STAGES, arguments

    def step(label, name, done, **wildcards):
        args = arguments(name, {}, threads=threads, **wildcards)
        return (label, [STAGES[name].script, *args], str(done))

    study = {"family": family, "variant": variant}
    return [
        step("corpus", "corpus", layout.path(layout.CORPUS_FILE, split="train")),
        step(
            "variant", "variant", layout.path(layout.VARIANT_FILE, **study, split="train"), **study
        ),
        step("pretrain", "pretrain", layout.PRETRAIN_SUMMARY),
        *(
            step(
                f"hpo/{alg}",
                "hpo",
                layout.path(layout.STUDY_DIR, **study, algorithm=alg) / "summary.json",
                **study,
                algorithm=alg,
            )
            for alg in algorithms
        ),
    ]


def _run_step(name: str, command: list[str], work: Path, timeout: float | None) -> float:
    log_file = work / "logs" / f"{name}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log_file.open("w") as out:
        try:
            rc = subprocess.run(
                command, cwd=work, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            rc = None
    seconds = time.perf_counter() - started
    if rc != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-15:])
        why = f"ran past {timeout:.0f} s" if rc is None else f"exit status {rc}"
        raise StepFailed(f"step {name} failed ({why}) after {seconds:.0f} s; {log_file}:\n{tail}")
    return seconds


def measure(
    params: dict,
    scale: Scale,
    work: str | Path,
    scripts: str | Path,
    family: str = "original",
    variant: str = "cased",
    algorithms: Sequence[str] = ("asha", "bohb", "pbt"),
    timeout: float | None = None,
    threads: int = 1,
) -> dict:
    """Run the steps in ``work`` (kept between runs) and return :func:`cost_report`'s dict."""
    work, scripts = Path(work), Path(scripts).resolve()
    work.mkdir(parents=True, exist_ok=True)
    scaled = scaled_params(params, scale)
    text = yaml.safe_dump(scaled, sort_keys=False)
    params_file = work / "params.yaml"
    if params_file.exists() and params_file.read_text() != text:
        raise ValueError(
            f"{work} holds a measurement at other settings ({params_file}); "
            "use another work folder or delete this one"
        )
    atomic_write_text(params_file, text)
    done_file = work / "steps.json"
    done = json.loads(done_file.read_text()) if done_file.exists() else {}
    plan = steps(family, variant, algorithms, threads)
    for name, (script, *args), marker in plan:
        if name in done and (work / marker).exists():
            log.info("%s: kept from an earlier run (%.1f s)", name, done[name])
            continue
        log.info("%s: running %s", name, script)
        command = [sys.executable, str(scripts / script), "--params", "params.yaml", *args]
        done[name] = round(_run_step(name, command, work, timeout), 2)
        atomic_write_json(done_file, done)
        log.info("%s: %.1f s", name, done[name])
    studies = {  # each HPO step's marker is its study's summary.json
        name.removeprefix("hpo/"): read_json(work / marker)
        for name, _, marker in plan
        if name.startswith("hpo/")
    }
    return cost_report(done, studies, scaled, params, scale)


def _device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    import platform

    return f"CPU ({platform.processor() or platform.machine()})"


def cost_report(
    step_seconds: dict, studies: dict, scaled: dict, params: dict, scale: Scale
) -> dict:
    """Each measured job's seconds and what the HPO jobs of all families x variants would take.

    GPU-seconds count the GPUs a job holds (``hpo.gpus_per_job``) for its whole time, as a
    scheduler reserves them; the projection runs the jobs one after another on such a machine.
    """
    hpo = scaled["hpo"]
    per_algorithm = len(params["hpo"]["families"]) * len(params["hpo"]["train_variants"])
    rows = []
    for alg, s in studies.items():
        job = step_seconds[f"hpo/{alg}"]
        rows.append(
            {
                "algorithm": alg,
                "job_seconds": job,
                "study_seconds": s["wall_seconds"],
                "train_seconds": s["train_seconds"],
                "eval_seconds": s["eval_seconds"],
                "trials": s["trials"],
                "epochs": s["epochs"],
                "best_dev_f1": round(s["best_dev_f1"], 4),
                "gpu_seconds": round(job * hpo["gpus_per_job"], 2),
            }
        )
    projected = per_algorithm * sum(r["job_seconds"] for r in rows)
    report = {
        "device": _device_name(),
        "scale": asdict(scale),
        "steps": step_seconds,
        "studies": rows,
        "jobs_per_algorithm": per_algorithm,
        "projected_jobs": per_algorithm * len(rows),
        "projected_minutes": round(projected / 60, 2),
        "projected_gpu_minutes": round(projected * hpo["gpus_per_job"] / 60, 2),
    }
    if hpo["gpus_per_job"]:
        report["target_gpu_minutes"] = TARGET_GPU_MINUTES
        report["target_met"] = report["projected_gpu_minutes"] <= TARGET_GPU_MINUTES
    return report


def markdown(report: dict) -> str:
    from tabulate import tabulate

    table = tabulate(
        [
            [r["algorithm"], r["job_seconds"], r["train_seconds"], r["eval_seconds"], r["trials"]]
            + [r["epochs"], r["best_dev_f1"], r["gpu_seconds"]]
            for r in report["studies"]
        ],
        headers=["algorithm", "job s", "train s", "eval s", "trials", "epochs", "dev F1", "GPU s"],
        tablefmt="github",
        floatfmt=".4g",
    )
    line = (
        f"\n\n{report['device']}: the {report['projected_jobs']} HPO jobs "
        f"({report['jobs_per_algorithm']} per algorithm) would take about "
        f"{report['projected_minutes']:.1f} minutes one after another"
    )
    if "target_met" in report:
        line += (
            f", {report['projected_gpu_minutes']:.1f} GPU-minutes "
            f"(target {report['target_gpu_minutes']}: {'met' if report['target_met'] else 'not met'})"
        )
    return table + line + ".\n"
