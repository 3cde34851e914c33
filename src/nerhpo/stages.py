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


def study_hpo(params: dict, overrides: dict | None = None) -> dict:
    """The hpo settings a study runs with: params' hpo block without the comparison's keys
    (``repeats``, ``retrain_seeds``, ``compare``, which are no study setting and must not change
    a study's fingerprint), updated with ``overrides`` (a sprint's budget or narrowed space)."""
    from nerhpo.compare import COMPARE_KEYS

    hpo = {k: v for k, v in params["hpo"].items() if k not in COMPARE_KEYS}
    return {**hpo, **(overrides or {})}


def make_study(
    params: dict,
    family: str,
    variant: str,
    algorithm: str,
    data_dir,
    model_dir,
    out_dir,
    *,
    seed: int | None = None,
    hpo_overrides: dict | None = None,
):
    """A Study from params; ``seed`` (default: params' seed) and ``hpo_overrides`` serve the
    repeated studies (another HPO seed) and the sprints (another budget, data or space)."""
    from nerhpo.hpo import Study

    return Study(
        family=family,
        variant=variant,
        algorithm=algorithm,
        data_dir=Path(data_dir),
        model_dir=Path(model_dir) if Path(model_dir).exists() else model_dir,
        out_dir=Path(out_dir),
        labels=family_labels(data_dir),
        hpo=study_hpo(params, hpo_overrides),
        defaults=params["train"],
        max_length=params["model"]["max_length"],
        seed=params["seed"] if seed is None else int(seed),
    )


def run_costed(study) -> dict:
    """Run a study and write ``cost.json`` beside its results: wall seconds and the CPU seconds
    of this process tree while it ran (Ray's workers included)."""
    import time

    from nerhpo.hpo import run_study
    from nerhpo.sprint import tree_cpu_seconds

    cpu, wall = tree_cpu_seconds(), time.time()
    summary = run_study(study)
    cost = {
        "cpu_seconds": round(tree_cpu_seconds() - cpu, 1),
        "wall_seconds": round(time.time() - wall, 1),
        "seed": study.seed,
    }
    atomic_write_json(Path(study.out_dir) / "cost.json", cost)
    return {**summary, **cost}


def run_repeats(params: dict, family: str, variant: str, algorithm: str, model_dir) -> dict:
    """The extra repeats of one compared study series (repeat k: HPO seed params seed + k)."""
    from nerhpo.compare import extra_repeats, repeat_seed, study_dir

    data_dir = Path("data/variants") / family / variant
    done = []
    for k in extra_repeats(params, family, variant, algorithm):
        out = study_dir(params, family, variant, algorithm, k)
        seed = repeat_seed(params["seed"], k)
        study = make_study(params, family, variant, algorithm, data_dir, model_dir, out, seed=seed)
        summary = run_costed(study)
        done.append({"repeat": k, "seed": seed, "dir": str(out), **summary})
    return {"family": family, "variant": variant, "algorithm": algorithm, "repeats": done}
