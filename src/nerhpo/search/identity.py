"""What identifies a study: the settings that can change its result, and nothing else.

A study depends on the seed, the default hyperparameters (``train``), the encoder, max_length,
the search space, its budget, its objective and its own algorithm's block. Not on the lists of families,
variants and algorithms (adding one adds studies, it changes none), nor on ray_address or the
CPUs and GPUs per trial or job (where it runs, not what it finds), nor on the comparison's keys.
Snakemake and DVC re-run a study when one of these keys changes (nerhpo.pipeline.stages), and a
study's saved Tune state is resumed unless one of them, its data or its encoder changed
(nerhpo.search.identity.study_fingerprint).
"""

from __future__ import annotations

from pathlib import Path

from nerhpo.search.study import ALGORITHMS, Study

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
        "hpo.objective",
        f"hpo.{algorithm}",
    )


def study_fingerprint(study: Study) -> str:
    """What a saved Tune state is valid for: the study's identity and its data.

    The identity is what can change the study's result (``study_keys``, the keys whose
    change makes Snakemake and DVC re-run it): seed, default hyperparameters, encoder
    bytes, max_length, search space, budget and its own algorithm's block; then its labels and
    its training and dev data. Not the lists of families, variants and algorithms, nor CPUs or
    GPUs per trial: a study whose identity did not change resumes from its saved state.
    """

    settings = {k: study.hpo.get(k) for k in STUDY_HPO_KEYS}
    settings[study.algorithm] = study.hpo.get(study.algorithm)
    # objective own (the default) adds nothing: its studies keep the fingerprint they had
    # before objectives existed, so they resume; mean and worst count the dev sets they score
    if study.objective != "own":
        settings["objective"] = study.objective
        settings["objective_dev"] = sorted(study.objective_dev_files)
    # a local encoder counts by its bytes (wherever it lies), a cached hub model by its name
    name = () if Path(study.model_dir).is_dir() else (str(study.model_dir),)
    return _fingerprint(study, settings, *name)


def legacy_fingerprint(study: Study) -> str:
    """The fingerprint of nerhpo 0.1.0, which counted every hpo key but the algorithm blocks,
    ray_address and the comparison's keys: a state saved under it is still this study's."""
    excluded = ALGORITHMS + ("ray_address", "repeats", "retrain_seeds", "compare", "objective")
    settings = {k: v for k, v in study.hpo.items() if k not in excluded}
    settings["algorithm_settings"] = study.hpo.get(study.algorithm)
    return _fingerprint(study, settings)


def _fingerprint(study: Study, settings: dict, *extra) -> str:
    import hashlib

    digest = hashlib.sha256()
    for item in (
        study.algorithm,
        settings,
        study.defaults,
        study.seed,
        study.max_length,
        study.labels,
        *extra,
    ):
        digest.update(repr(item).encode())
    files = [study.data_dir / "train.tsv", study.data_dir / "dev.tsv"]
    files += [study.objective_dev_files[v] for v in sorted(study.objective_dev_files)]
    if Path(study.model_dir).is_dir():
        files += sorted(Path(study.model_dir).glob("*.safetensors"))
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest() + "\n"


def saved_state_matches(stamp: Path, study: Study, fingerprint: str) -> bool:
    """Whether the Tune state beside ``stamp`` was saved by this study (also under the legacy
    fingerprint, whose stamp is then rewritten)."""
    if not stamp.exists():
        return False
    saved = stamp.read_text()
    if saved == fingerprint:
        return True
    # nerhpo 0.1.0 knew no objective but its own variant's dev F1
    return study.objective == "own" and saved == legacy_fingerprint(study)
