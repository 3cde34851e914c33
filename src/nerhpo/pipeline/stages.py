"""The pipeline's stages, defined once: script, arguments, settings, data, outputs.

dvc.yaml is written from this table (``workflow/scripts/write_dvc_yaml.py``; a test checks
that the committed file is current), and the Snakemake rules take each stage's command, its
settings (the params keys whose change re-runs it) and its code from here. So both tools run
the same scripts with the same flags and re-run the same stages after the same change.

A stage's settings are what can change its result, nothing else (a study's: nerhpo.search.identity).
Its code is every module of the package that its
script imports, directly or through other modules (``code_deps``).

Templates: ``{family}``-style names are the stage's wildcards (DVC: ``${item.family}``), and
dotted names such as ``{sprint.family}`` are params values (DVC: ``${sprint.family}``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from nerhpo.core import layout as L
from nerhpo.search.identity import study_keys
from nerhpo.search.pretrain_study import study_keys as pretrain_study_keys

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/nerhpo
PROJECT_DIR = PACKAGE_DIR.parents[1]
SCRIPTS_DIR = "workflow/scripts"

# which repeat of a compared series is a main study (repeat 0 then is that study)
MAIN_STUDY_LISTS = ("hpo.families", "hpo.train_variants", "hpo.algorithms")


@dataclass(frozen=True)
class Out:
    path: str
    persist: bool = False  # kept across runs (Ray Tune state: a killed run resumes)
    cache: bool = True  # in DVC's cache (pushed and pulled with the data)
    metric: bool = False


@dataclass(frozen=True)
class Stage:
    script: str
    args: tuple[tuple[str, str], ...]  # (flag, value template); value "" for a bare flag
    params: tuple[str, ...]
    deps: tuple[str, ...] = ()  # data the stage reads (its code is added from its imports)
    outs: tuple[Out, ...] = ()
    matrix: dict[str, str] = field(default_factory=dict)  # wildcard -> params list it spans
    threads: int = 1  # the DVC command's --threads (Snakemake passes its own)
    # outside the default target: a named Snakemake rule, and a stage of ON_REQUEST_DVC_YAML
    # (run by `dvc repro ON_REQUEST_DVC_YAML`), not of dvc.yaml (which `dvc repro` runs)
    on_request: bool = False


STUDY_ARGS = (("--family", "{family}"), ("--variant", "{variant}"), ("--algorithm", "{algorithm}"))
STUDY_MATRIX = {
    "family": "hpo.families",
    "variant": "hpo.train_variants",
    "algorithm": "hpo.algorithms",
}
COMPARE_MATRIX = {
    "family": "hpo.compare.families",
    "variant": "hpo.compare.train_variants",
    "algorithm": "hpo.compare.algorithms",
}
SPRINT_DATA = "data/variants/{sprint.family}/{sprint.variant}"
OBJECTIVE_DATA = "data/variants/{objectives.family}"

STAGES: dict[str, Stage] = {
    "corpus": Stage(
        script="make_corpus.py",
        args=(("--out", L.CORPUS_DIR),),
        params=("seed", "corpus"),
        outs=(Out(L.CORPUS_DIR),),
    ),
    "variant": Stage(
        script="make_variant.py",
        args=(
            ("--family", "{family}"),
            ("--variant", "{variant}"),
            ("--corpus", L.CORPUS_DIR),
            ("--out", L.VARIANT_DIR),
        ),
        params=("seed", "variants.mix_probability", "tag_families.{family}"),
        deps=(L.CORPUS_DIR,),
        outs=(Out(L.VARIANT_DIR),),
        matrix={"family": "tag_families", "variant": "variants.names"},
    ),
    "pretrain": Stage(
        script="pretrain.py",
        args=(
            ("--corpus-train", L.CORPUS_FILE.format(split="train")),
            ("--out", L.PRETRAINED_DIR),
            ("--threads", "{threads}"),
        ),
        params=("seed", "model"),
        deps=(L.CORPUS_DIR,),
        outs=(Out(L.PRETRAINED_DIR),),
        threads=2,
    ),
    "corpus_report": Stage(
        script="corpus_report.py",
        args=(
            ("--corpus", L.CORPUS_DIR),
            ("--model", L.PRETRAINED_DIR),
            ("--out", L.CORPUS_REPORT_DIR),
        ),
        params=("model.name_or_path", "model.max_length", "tag_families"),
        deps=(L.CORPUS_DIR, L.PRETRAINED_DIR),
        outs=(Out(L.CORPUS_REPORT_DIR, cache=False),),
    ),
    "hpo": Stage(
        script="hpo.py",
        args=(*STUDY_ARGS, ("--data", L.VARIANT_DIR), ("--out", L.STUDY_DIR)),
        params=study_keys(),
        # the family's other variants: their dev sets score the trials under hpo.objective
        # mean or worst
        deps=(L.FAMILY_DATA_DIR, L.PRETRAINED_DIR),
        outs=(
            Out(L.STUDY_MODEL_DIR),
            *(Out(f"{L.STUDY_DIR}/{name}") for name in ("trials.csv", "summary.json", "best.json")),
            Out(L.STUDY_TUNE_DIR, persist=True, cache=False),
            Out(L.STUDY_STAMP, persist=True, cache=False),
        ),
        matrix=STUDY_MATRIX,
    ),
    "evaluate": Stage(
        script="evaluate.py",
        args=(
            *STUDY_ARGS,
            ("--model", L.STUDY_MODEL_DIR),
            ("--data-root", L.VARIANTS_ROOT),
            ("--threads", "{threads}"),
            ("--out", L.EVAL_FILE),
            ("--errors", L.ERRORS_FILE),
        ),
        params=("variants.names", "model.max_length"),
        # the family's folder holds every split it reads, the truecaser's training text
        # (cased/train.tsv, for a cased-trained model) included
        deps=(L.STUDY_MODEL_DIR, L.FAMILY_DATA_DIR),
        # cached, so `dvc push`/`dvc pull` carry them with the models (results/ is not in git)
        outs=(Out(L.EVAL_FILE, metric=True), Out(L.ERRORS_FILE)),
        matrix=STUDY_MATRIX,
    ),
    "baseline": Stage(
        script="baseline.py",
        args=(
            ("--batch-size", "{batch_size}"),
            ("--data", "data/variants/{baseline.family}/{baseline.variant}"),
            ("--threads", "{threads}"),
            ("--out", L.BASELINE_FILE),
        ),
        params=("seed", "train", "baseline.family", "baseline.variant", "model.max_length"),
        deps=("data/variants/{baseline.family}/{baseline.variant}", L.PRETRAINED_DIR),
        outs=(Out(L.BASELINE_FILE, metric=True),),
        matrix={"batch_size": "baseline.batch_sizes"},
    ),
    # the fair comparison: extra repeats (HPO seed + k) of every compared study series ...
    "repeats": Stage(
        script="repeats.py",
        args=(*STUDY_ARGS, ("--data", L.VARIANT_DIR), ("--out", L.REPEATS_SUMMARY)),
        params=(*study_keys(), "hpo.repeats", *MAIN_STUDY_LISTS),
        deps=(L.VARIANT_DIR, L.PRETRAINED_DIR),
        # the repeats' studies, Tune state included: kept across runs so a killed run resumes
        outs=(Out(L.REPEATS_DIR, persist=True, cache=False),),
        matrix=COMPARE_MATRIX,
    ),
    # ... and every repeat's best configuration re-trained with other training seeds
    "retrain": Stage(
        script="retrain.py",
        args=(
            *STUDY_ARGS,
            ("--data", L.VARIANT_DIR),
            ("--results", L.RESULTS),
            ("--threads", "{threads}"),
            ("--out", L.RETRAIN_FILE),
        ),
        params=(
            "seed",
            "model.max_length",
            "train.batch_order",
            "hpo.max_epochs",
            "hpo.repeats",
            "hpo.retrain_seeds",
            *MAIN_STUDY_LISTS,
        ),
        deps=(L.VARIANT_DIR, L.PRETRAINED_DIR, L.REPEATS_DIR, "results/hpo"),
        outs=(Out(L.RETRAIN_FILE, metric=True),),
        matrix=COMPARE_MATRIX,
    ),
    # the seed spread of the casing robustness: a training variant's best configuration
    # re-trained with other seeds, each model evaluated on every variant
    "casing_seeds": Stage(
        script="casing_seeds.py",
        args=(
            ("--family", "{family}"),
            ("--variant", "{variant}"),
            ("--data-root", L.VARIANTS_ROOT),
            ("--results", L.RESULTS),
            ("--threads", "{threads}"),
            ("--out", L.CASING_SEEDS_FILE),
        ),
        params=(
            "seed",
            "model.max_length",
            "train.batch_order",
            "hpo.max_epochs",
            "hpo.algorithms",
            "casing_seeds.seeds",
            "variants.names",
        ),
        deps=(L.FAMILY_DATA_DIR, L.PRETRAINED_DIR, "results/hpo/{family}/{variant}"),
        outs=(Out(L.CASING_SEEDS_FILE, metric=True),),
        matrix={"family": "casing_seeds.families", "variant": "hpo.train_variants"},
    ),
    # the robustness-aware objective: a main study re-run under objectives.objective, evaluated
    "objective": Stage(
        script="objective.py",
        args=(
            ("--family", "{objectives.family}"),
            ("--variant", "{variant}"),
            ("--algorithm", "{objectives.algorithm}"),
            ("--objective", "{objectives.objective}"),
            ("--data-root", L.VARIANTS_ROOT),
            ("--threads", "{threads}"),
            ("--out", L.OBJECTIVE_DIR),
        ),
        params=(*study_keys("{objectives.algorithm}"), "objectives", "variants.names"),
        deps=(OBJECTIVE_DATA, L.PRETRAINED_DIR),
        # the study, Tune state included: kept across runs so a killed run resumes
        outs=(Out(L.OBJECTIVE_DIR, persist=True, cache=False),),
        matrix={"variant": "objectives.train_variants"},
    ),
    # the progressive-fidelity sprint: data subset, cheap round, narrowed space, full round
    "sprint_data": Stage(
        script="sprint.py",
        args=(("--step", "data"), ("--data", SPRINT_DATA), ("--out", L.SPRINT_DATA_DIR)),
        params=("seed", "sprint"),
        deps=(SPRINT_DATA,),
        outs=(Out(L.SPRINT_DATA_DIR),),
    ),
    "sprint_cheap": Stage(
        script="sprint.py",
        args=(("--step", "cheap"), ("--data", L.SPRINT_DATA_DIR), ("--out", L.SPRINT_CHEAP_DIR)),
        params=(*study_keys("{sprint.algorithm}"), "sprint"),
        deps=(L.SPRINT_DATA_DIR, L.PRETRAINED_DIR),
        outs=(Out(L.SPRINT_CHEAP_DIR, persist=True, cache=False),),
    ),
    "sprint_narrow": Stage(
        script="sprint.py",
        args=(
            ("--step", "narrow"),
            ("--data", f"{L.SPRINT_CHEAP_DIR}/trials.csv"),
            ("--out", L.SPRINT_SPACE),
        ),
        params=("seed", "sprint", "hpo.search_space"),
        deps=(L.SPRINT_CHEAP_DIR,),
        outs=(Out(L.SPRINT_SPACE),),
    ),
    "sprint_full": Stage(
        script="sprint.py",
        args=(
            ("--step", "full"),
            ("--data", SPRINT_DATA),
            ("--space", L.SPRINT_SPACE),
            ("--out", L.SPRINT_FULL_DIR),
        ),
        params=(*study_keys("{sprint.algorithm}"), "sprint"),
        deps=(L.SPRINT_SPACE, SPRINT_DATA, L.PRETRAINED_DIR),
        outs=(Out(L.SPRINT_FULL_DIR, persist=True, cache=False),),
    ),
    "findings": Stage(
        script="findings.py",
        args=(("--results", L.RESULTS), ("--out", L.FINDINGS_DIR)),
        params=(
            "seed",
            *MAIN_STUDY_LISTS,
            "hpo.search_space",
            "hpo.num_samples",
            "hpo.max_epochs",
            "hpo.repeats",
            "hpo.retrain_seeds",
            "hpo.compare",
            "hpo.objective",
            "objectives",
            "casing_seeds",
            "sprint",
        ),
        deps=(
            "results/hpo",
            "results/eval",
            "results/repeats",
            "results/retrain",
            "results/casing_seeds",
            "results/errors",
            "results/objective",
            L.SPRINT_CHEAP_DIR,
            L.SPRINT_SPACE,
            L.SPRINT_FULL_DIR,
        ),
        outs=(Out(L.FINDINGS_DIR, cache=False),),
    ),
    "report": Stage(
        script="report.py",
        args=(
            ("--results", L.RESULTS),
            ("--readme", L.README),
            ("--out", L.REPORT_DIR),
            ("--findings", L.FINDINGS_FILE),
            ("--corpus-report", L.CORPUS_REPORT_FILE),
            ("--journal", L.OPTUNA_JOURNAL),
        ),
        # the header names the resources per study
        params=(
            "seed",
            *MAIN_STUDY_LISTS,
            "variants.names",
            "baseline.batch_sizes",
            "hpo.concurrency",
            "hpo.cpus_per_trial",
            "hpo.gpus_per_trial",
            "model",
            "corpus",
            "hpo.search_space",  # the Optuna journal's distributions
        ),
        deps=(
            L.FINDINGS_FILE,
            L.CORPUS_REPORT_FILE,
            "results/eval",
            "results/baseline",
            "results/hpo",
        ),
        # committed to git (the README links the figures), so not in DVC's cache
        # the Optuna journal lies inside it: a pulled clone has it from git, as the figures
        outs=(Out(L.REPORT_DIR, cache=False),),
    ),
    # on request: HPO of the scratch encoder's pretraining (nerhpo.search.pretrain_study)
    "pretrain_hpo": Stage(
        script="pretrain_hpo.py",
        args=(
            ("--corpus-train", L.CORPUS_FILE.format(split="train")),
            # the probe's variant is read from params below it: no params value in the command,
            # so a params file without a pretrain_hpo block still gives valid DVC files
            ("--data-root", L.VARIANTS_ROOT),
            ("--results", L.RESULTS),
            ("--readme", L.README),
            ("--out", L.PRETRAIN_HPO_DIR),
        ),
        # hpo: the fine-tuning study's budget and settings (a change re-runs the stage, and each
        # of its two studies resumes unless its own identity changed)
        params=(*pretrain_study_keys(), "hpo"),
        # the main studies: the fine-tuning on the best encoder is compared with one of them
        deps=(L.CORPUS_DIR, L.VARIANTS_ROOT, "results/hpo"),
        outs=(
            Out(L.PRETRAIN_HPO_ENCODER),
            *(Out(f"{L.PRETRAIN_HPO_DIR}/{name}") for name in L.PRETRAIN_HPO_FILES),
            Out(L.PRETRAIN_HPO_FINDINGS, cache=False),
            Out(L.PRETRAIN_HPO_TUNE_DIR, persist=True, cache=False),
            Out(L.PRETRAIN_HPO_STAMP, persist=True, cache=False),
            Out(L.PRETRAIN_HPO_FINETUNE, persist=True, cache=False),
        ),
        on_request=True,
    ),
}

# where the on-request stages' DVC file lies (its stages run from the project root: wdir)
ON_REQUEST_DVC_YAML = "workflow/dvc/dvc.yaml"

# The figures as DVC plots (`dvc plots show`, `dvc plots diff`)
PLOTS = (
    "results/report/anytime.png",
    "results/report/hparams.png",
    "results/report/heatmap_original.png",
    "results/report/heatmap_simple.png",
    "results/findings/importance.png",
    "results/findings/compare_anytime.png",
    "results/findings/compare_retrain.png",
    "results/findings/casing.png",
    "results/corpus/lengths.png",
)

_FIELD = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


def _fill(template: str, wildcard, value) -> str:
    """Replace each ``{name}`` by ``wildcard(name)`` (a stage wildcard) or ``value(name)``
    (a dotted params key)."""
    return _FIELD.sub(lambda m: wildcard(m[1]) if "." not in m[1] else value(m[1]), template)


def lookup(params: dict, dotted: str):
    value = params
    for part in dotted.split("."):
        value = value[part]
    return value


# --- DVC -------------------------------------------------------------------------------------


def _dvc(template: str, stage: Stage) -> str:
    def wildcard(name):
        if name == "threads":
            return str(stage.threads)
        if name == "params_file":
            return "params.yaml"
        return "${item." + name + "}"

    return _fill(template, wildcard, lambda key: "${" + key + "}")


def command(name: str, fill) -> str:
    """The stage's command line, its templates filled by ``fill``."""
    stage = STAGES[name]
    parts = [f"python {SCRIPTS_DIR}/{stage.script}", "--params {params_file}"]
    parts += [f"{flag} {value}".rstrip() for flag, value in stage.args]
    return fill(" ".join(parts))


def arguments(name: str, config: dict, threads: int | None = None, **wildcards) -> list[str]:
    """The stage's arguments after ``--params``, filled with values (a job run by hand)."""
    stage = STAGES[name]

    def wildcard(n):
        return str(threads or stage.threads) if n == "threads" else str(wildcards[n])

    out = []
    for flag, value in stage.args:
        out += [flag, _fill(value, wildcard, lambda k: str(lookup(config, k)))]
    return out


def dvc_stage(name: str) -> dict:
    stage = STAGES[name]
    entry: dict = {}
    if stage.matrix:
        entry["matrix"] = {w: "${" + key + "}" for w, key in stage.matrix.items()}
    entry["cmd"] = command(name, lambda t: _dvc(t, stage))
    entry["deps"] = [f"{SCRIPTS_DIR}/{stage.script}", *code_deps(stage.script)] + [
        _dvc(d, stage) for d in stage.deps
    ]
    entry["params"] = [_dvc(k, stage) for k in stage.params]
    outs, metrics = [], []
    for out in stage.outs:
        p = _dvc(out.path, stage)
        options = {"persist": True} if out.persist else {}
        if not out.cache:
            options["cache"] = False
        item = {p: options} if options else p
        (metrics if out.metric else outs).append(item)
    if outs:
        entry["outs"] = outs
    if metrics:
        entry["metrics"] = metrics
    return entry


DVC_HEADER = """\
# Generated from src/nerhpo/pipeline/stages.py by workflow/scripts/write_dvc_yaml.py: do not edit.
# The same stages as the Snakefile, calling the same scripts with the same flags; each stage
# depends on the params keys that can change its result and on every module its script imports.
"""


def dvc_yaml() -> str:
    import yaml

    stages = {name: dvc_stage(name) for name, s in STAGES.items() if not s.on_request}
    document = {"stages": stages, "plots": list(PLOTS)}
    return DVC_HEADER + yaml.safe_dump(document, sort_keys=False, width=100)


ON_REQUEST_HEADER = """\
# Generated from src/nerhpo/pipeline/stages.py by workflow/scripts/write_dvc_yaml.py: do not edit.
# The stages outside the default target (`dvc repro` runs only ./dvc.yaml): run one with
# `dvc repro workflow/dvc/dvc.yaml:<stage>`. They run in the project root (wdir) and read its
# params.yaml, as the stages of dvc.yaml do.
"""


def on_request_dvc_yaml() -> str:
    """The DVC file of the on-request stages (``ON_REQUEST_DVC_YAML``), paths from the root."""
    import yaml

    up = "/".join(".." for _ in Path(ON_REQUEST_DVC_YAML).parent.parts)
    stages = {}
    for name, stage in STAGES.items():
        if stage.on_request:
            # deps, outs and params (params.yaml) are relative to wdir
            stages[name] = {"wdir": up, **dvc_stage(name)}
    document = {"stages": stages}
    return ON_REQUEST_HEADER + yaml.safe_dump(document, sort_keys=False, width=100)


# --- Snakemake -------------------------------------------------------------------------------


def snakemake_shell(name: str, config: dict) -> str:
    """The rule's shell command (without its log redirection): wildcards stay Snakemake's."""

    def wildcard(n):
        if n == "threads":
            return "{threads}"
        if n == "params_file":
            return "{params.file}"
        return "{wildcards." + n + "}"

    return command(name, lambda t: _fill(t, wildcard, lambda key: str(lookup(config, key))))


def settings(name: str, config: dict, wildcards=None) -> dict:
    """The values of the stage's params keys (a rule's ``params.settings``): Snakemake re-runs
    a job when they change, as DVC does for the same keys."""
    wc = dict(wildcards.items()) if wildcards is not None else {}
    out = {}
    for template in STAGES[name].params:
        key = _fill(template, lambda n: wc[n], lambda k: str(lookup(config, k)))
        out[key] = lookup(config, key)
    return out


# --- code dependencies -----------------------------------------------------------------------


def _imported_modules(path: Path) -> set[str]:
    """The nerhpo modules a file imports anywhere (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "nerhpo")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "nerhpo":
                continue
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _module_file(module: str) -> Path | None:
    base = PACKAGE_DIR.joinpath(*module.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def code_deps(script: str) -> tuple[str, ...]:
    """Every package module a script imports, directly or through other modules (sorted,
    relative to the project root)."""
    seen: set[Path] = set()
    todo = [PROJECT_DIR / SCRIPTS_DIR / script]
    while todo:
        for module in _imported_modules(todo.pop()):
            file = _module_file(module)
            if file is not None and file not in seen:
                seen.add(file)
                todo.append(file)
                for folder in file.relative_to(PACKAGE_DIR).parents:  # its packages run too
                    init = PACKAGE_DIR / folder / "__init__.py"
                    if init.is_file() and init not in seen:
                        seen.add(init)
                        todo.append(init)
    return tuple(sorted(str(f.relative_to(PROJECT_DIR)) for f in seen))
