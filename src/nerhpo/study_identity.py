"""What identifies a study: the settings that can change its result, and nothing else.

A study depends on the seed, the default hyperparameters (``train``), the encoder, max_length,
the search space, its budget and its own algorithm's block. Not on the lists of families,
variants and algorithms (adding one adds studies, it changes none), nor on ray_address or the
CPUs and GPUs per trial or job (where it runs, not what it finds), nor on the comparison's keys.
Snakemake and DVC re-run a study when one of these keys changes (nerhpo.stage_table), and a
study's saved Tune state is resumed unless one of them, its data or its encoder changed
(nerhpo.hpo.study_fingerprint).
"""

from __future__ import annotations

# the hpo keys a study's result depends on, besides its own algorithm's block
STUDY_HPO_KEYS = ("num_samples", "max_epochs", "concurrency", "search_space")


def study_keys(algorithm: str = "{algorithm}") -> tuple[str, ...]:
    """The params keys (dotted) that identify one study of ``algorithm``."""
    return (
        "seed",
        "train",
        "model.name_or_path",
        "model.max_length",
        *(f"hpo.{k}" for k in STUDY_HPO_KEYS),
        f"hpo.{algorithm}",
    )
