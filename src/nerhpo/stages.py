"""A study from params: the glue between params.yaml and nerhpo.hpo, so scripts stay thin."""

from __future__ import annotations

from pathlib import Path

from nerhpo.corpus import read_corpus
from nerhpo.layout import PRETRAINED_DIR
from nerhpo.tags import label_list


def model_source(params: dict, pretrained_dir: str | Path = PRETRAINED_DIR) -> Path | str:
    """Where the encoder comes from: the pretrain stage's output, or the configured path/name."""
    name = params["model"]["name_or_path"]
    return Path(pretrained_dir) if name == "scratch" else name


def family_labels(data_dir: str | Path) -> list[str]:
    """The label list of a family's data (all splits, so dev/test types are never unknown)."""
    types = set()
    for split in ("train", "dev", "test"):
        for s in read_corpus(Path(data_dir) / f"{split}.tsv"):
            types.update(t[2:] for t in s.tags if t != "O")
    return label_list(types)


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
    repeated studies (another HPO seed) and the sprints (another budget, data or space). What
    identifies the study (its saved state's fingerprint) is chosen by nerhpo.hpo."""
    from nerhpo.hpo import Study

    return Study(
        family=family,
        variant=variant,
        algorithm=algorithm,
        data_dir=Path(data_dir),
        model_dir=Path(model_dir) if Path(model_dir).exists() else model_dir,
        out_dir=Path(out_dir),
        labels=family_labels(data_dir),
        hpo={**params["hpo"], **(hpo_overrides or {})},
        defaults=params["train"],
        max_length=params["model"]["max_length"],
        seed=params["seed"] if seed is None else int(seed),
    )
