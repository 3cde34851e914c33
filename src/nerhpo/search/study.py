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

# What a trial's dev score (METRIC) is: the dev F1 of its own training variant (own), or the mean
# or the minimum over the dev sets of every evaluation variant (variants.names) of its family
OBJECTIVES = ("own", "mean", "worst")


def objective_value(objective: str, by_variant: dict[str, float], own: str) -> float:
    """A trial's score under ``objective`` from its dev F1 per evaluation variant."""
    if objective == "own":
        return by_variant[own]
    scores = [by_variant[v] for v in sorted(by_variant)]  # sorted: the same sum in any process
    if objective == "mean":
        return sum(scores) / len(scores)
    if objective == "worst":
        return min(scores)
    raise ValueError(f"unknown objective {objective!r} (one of {', '.join(OBJECTIVES)})")


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
    # the family's evaluation variants (variants.names): their dev sets score a trial when
    # hpo.objective is mean or worst
    eval_variants: tuple[str, ...] = ()

    @property
    def objective(self) -> str:
        return self.hpo.get("objective", "own")

    @property
    def objective_dev_files(self) -> dict[str, Path]:
        """The dev sets a trial is scored on besides its own (none for objective own)."""
        if self.objective == "own":
            return {}
        root = self.data_dir.parent
        return {v: root / v / "dev.tsv" for v in self.eval_variants if v != self.variant}

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
        eval_variants=tuple(params["variants"]["names"]),
    )
