"""One HPO study: a tag family x training variant x algorithm, and how it is made from params.

All algorithms share one search space and one budget (trials, max epochs per trial, trials at
once) from params.yaml; what identifies a study is in nerhpo.search.identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nerhpo.data.tags import family_labels
from nerhpo.training.model_card import corpus_description

ALGORITHMS = ("asha", "bohb", "pbt", "random", "grid", "tpe", "gp")

METRIC = "dev_f1"


class StudyFailed(RuntimeError):
    """No trial of a study finished; the message summarises the trials' errors."""


@dataclass
class Study:
    family: str
    variant: str
    algorithm: str
    data_dir: Path  # data/variants/{family}/{variant}
    model_dir: Path  # pretrained encoder (or a hub name)
    out_dir: Path  # results/hpo/{family}/{variant}/{algorithm}
    labels: list[str]
    hpo: dict  # params["hpo"]
    defaults: dict  # params["train"]
    max_length: int
    seed: int
    corpus: str = ""  # one line on where the sentences come from, for the model card

    @property
    def tag(self) -> str:
        return f"{self.family}/{self.variant}/{self.algorithm}"


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
    identifies the study (its saved state's fingerprint) is chosen by nerhpo.search.identity."""
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
        corpus=corpus_description(params["corpus"]),
    )
