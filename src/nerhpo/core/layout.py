"""Where every stage reads and writes: each path of the pipeline, defined once.

A path is a template relative to the project root whose wildcards are named in braces
(``{family}``, ``{variant}``, ``{algorithm}``, ``{split}``, ``{k}``, ``{batch_size}``). The
Snakemake rules use the templates as patterns, the stage table fills them with DVC's
``${item.*}`` when it writes dvc.yaml, and the package fills them with values (``path``).
The stages that collect results (comparison, findings, report) read them under a results
root that tests may move (``under``).
"""

from __future__ import annotations

from pathlib import Path

SPLITS = ("train", "dev", "test")
RESULTS = "results"

# data
CORPUS_DIR = "data/corpus"
CORPUS_FILE = "data/corpus/{split}.tsv"
VARIANTS_ROOT = "data/variants"
FAMILY_DATA_DIR = "data/variants/{family}"
VARIANT_DIR = "data/variants/{family}/{variant}"
VARIANT_FILE = "data/variants/{family}/{variant}/{split}.tsv"

# what the corpus holds (sizes, lengths, casing, unseen entities)
CORPUS_REPORT_DIR = "results/corpus"
CORPUS_REPORT_FILE = "results/corpus/corpus.md"

# model and studies
PRETRAINED_DIR = "results/pretrained"
PRETRAIN_SUMMARY = "results/pretrained/pretrain.json"
# the pretraining study (on request): HPO of the scratch encoder's pretraining
PRETRAIN_HPO_DIR = "results/pretrain_hpo"
PRETRAIN_HPO_FILES = ("trials.csv", "best.json", "summary.json")
PRETRAIN_HPO_ENCODER = "results/pretrain_hpo/encoder"
PRETRAIN_HPO_TUNE_DIR = "results/pretrain_hpo/tune"
PRETRAIN_HPO_STAMP = "results/pretrain_hpo/study.fingerprint"
PRETRAIN_HPO_FINDINGS = "results/pretrain_hpo/findings"  # pretraining.md, .json, .png
# fine-tuning HPO on the best encoder found (a study folder, as results/hpo/... holds one)
PRETRAIN_HPO_FINETUNE = "results/pretrain_hpo/finetune"
STUDY_DIR = "results/hpo/{family}/{variant}/{algorithm}"
STUDY_FILES = ("best.json", "trials.csv", "summary.json")
STUDY_MODEL_DIR = "results/hpo/{family}/{variant}/{algorithm}/model"
STUDY_TUNE_DIR = "results/hpo/{family}/{variant}/{algorithm}/tune"
STUDY_STAMP = "results/hpo/{family}/{variant}/{algorithm}/study.fingerprint"

# evaluation
EVAL_FILE = "results/eval/{family}/{variant}/{algorithm}.json"
# entities found on cased text but missed on its uncased copy (written with the eval file)
ERRORS_FILE = "results/errors/{family}/{variant}/{algorithm}.json"
BASELINE_FILE = "results/baseline/bs{batch_size}.json"

# the comparison: repeated studies and re-trained winners
REPEATS_DIR = "results/repeats/{family}/{variant}/{algorithm}"
REPEAT_DIR = "results/repeats/{family}/{variant}/{algorithm}/r{k}"
REPEATS_SUMMARY = "results/repeats/{family}/{variant}/{algorithm}/repeats.json"
RETRAIN_FILE = "results/retrain/{family}/{variant}/{algorithm}.json"

# the seed spread of the casing robustness: each training variant's best configuration re-trained
CASING_SEEDS_FILE = "results/casing_seeds/{family}/{variant}.json"

# the robustness-aware objective: main studies re-run under another objective, then evaluated
OBJECTIVE_DIR = "results/objective/{variant}"
OBJECTIVE_FILES = ("best.json", "trials.csv", "summary.json", "eval.json")

# the progressive-fidelity sprint
SPRINT_DATA_DIR = "results/sprint/data"
SPRINT_CHEAP_DIR = "results/sprint/cheap"
SPRINT_SPACE = "results/sprint/space.json"
SPRINT_FULL_DIR = "results/sprint/full"
SPRINT_ROUND_FILES = ("best.json", "trials.csv", "summary.json", "cost.json")

# collected results
FINDINGS_DIR = "results/findings"
FINDINGS_FILE = "results/findings/findings.md"
REPORT_DIR = "results/report"
REPORT_TABLES = "results/report/tables.md"
OPTUNA_JOURNAL = "results/report/optuna.journal"  # every study, for optuna-dashboard
README = "README.md"

# logs
LOGS = "logs"
BENCHMARKS = "logs/benchmarks"


def path(template: str, **fields) -> Path:
    """A template with its wildcards filled in, e.g. ``path(STUDY_DIR, family=..., ...)``."""
    return Path(template.format(**fields))


def under(results: str | Path, template: str, **fields) -> Path:
    """A results path under another results root (``results`` for a normal run)."""
    relative = path(template, **fields).relative_to(RESULTS)
    return Path(results) / relative


def variant_files(family: str, variant: str) -> list[str]:
    """The three split files of one casing variant of one family."""
    return [str(path(VARIANT_FILE, family=family, variant=variant, split=s)) for s in SPLITS]


def model_source(params: dict, pretrained_dir: str | Path = PRETRAINED_DIR) -> Path | str:
    """Where the encoder comes from: the pretrain stage's output (the scratch encoder, or a
    configured one whose pretraining it continued), or the configured path/name."""
    name = params["model"]["name_or_path"]
    continued = (params["model"].get("continue_pretraining") or {}).get("epochs", 0) > 0
    return Path(pretrained_dir) if name == "scratch" or continued else name
