"""Load params.yaml and validate it: the project's JSON schema, then the checks across keys.

Every script and DVC stage reads its params through :func:`load_params`, and the Snakefile
checks its config with :func:`check_params`; both give one line per problem, naming the key.
The schema checks each key on its own; the checks across keys (:func:`cross_key_problems`)
catch what it cannot see: a family, variant or algorithm named that is not defined, a
search-space range whose low is not below its high, a sprint study that is not a main study,
and other settings that would only fail later, with a traceback, inside a stage.
:func:`params_reference` writes the key table of docs/configuration.md from the schema's
descriptions and the defaults in params.yaml.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from nerhpo.core.errors import NerhpoError

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "params.schema.yaml"


class ParamsError(NerhpoError, ValueError):
    """params.yaml is unreadable or does not match the schema."""


@lru_cache(maxsize=1)
def load_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _short(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, so a huge value cannot flood the message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader whose bad values (``2024-13-45``, ``!!int abc``) raise a YAMLError
    that names the line, instead of a bare ValueError from deep inside PyYAML."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, LookupError, OverflowError) as err:
            tag = node.tag.rsplit(":", 1)[-1]
            value = f" {_short(repr(node.value), 60)}" if isinstance(node, yaml.ScalarNode) else ""
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"cannot read {tag} value{value} ({_short(str(err), 100)})",
                node.start_mark,
            ) from None


def _non_string_keys(params) -> list[str]:
    """Messages for mapping keys that YAML read as something else (``1:``, ``no:``, ``~:``)."""
    found, seen, todo = [], set(), [((), params)]
    while todo:  # iterative, and each container once: YAML aliases can make cycles
        path, value = todo.pop()
        if not isinstance(value, dict | list) or id(value) in seen:
            continue
        seen.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            if isinstance(value, dict) and not isinstance(k, str):
                found.append(f"{_key(path)}: key {_short(repr(k), 60)} is not a string (quote it)")
            todo.append(((*path, k), v))
    return sorted(found)


def describe_error(error) -> str:
    """One line naming the key and what was expected."""
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed), key=str)
        names = ", ".join(f"{key}.{e}" if error.absolute_path else str(e) for e in extra)
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {names}{hint}"
    if error.validator == "required":
        return f"{key}: {error.message}"
    if error.validator == "enum":
        return f"{key}: {_short(repr(error.instance), 80)} is not one of {error.validator_value}"
    if error.validator == "type":
        expected = error.validator_value
        got = f"{type(error.instance).__name__} {_short(repr(error.instance), 80)}"
        return f"{key}: expected {expected}, got {got}"
    if error.validator == "uniqueItems" and isinstance(error.instance, list):
        seen = []
        for item in error.instance:
            if any(_same(item, s) for s in seen):
                return f"{key}: {_short(repr(item), 80)} is listed more than once"
            seen.append(item)
    return _short(f"{key}: {error.message}")


def _same(a, b) -> bool:
    """Equal as JSON schema's uniqueItems sees it (1 == 1.0, but True is not 1)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def validate_params(params: Any, source: str = "params.yaml") -> dict:
    """Raise ParamsError naming every offending key; return params unchanged if valid.

    The schema first, then the checks across keys (:func:`cross_key_problems`), in one list.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(params), key=lambda e: list(map(str, e.absolute_path)))
    problems = _non_string_keys(params) + [describe_error(e) for e in errors]
    if isinstance(params, dict):
        named = {p.split(": ", 1)[0] for p in problems}
        problems += [p for p in cross_key_problems(params) if p.split(": ", 1)[0] not in named]
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ParamsError(f"{source}: invalid settings:\n{lines}")
    return params


def check_params(params: Any, source: str = "params.yaml") -> dict:
    """:func:`validate_params` for the Snakefile: invalid settings end the run with the message
    alone (``SystemExit``: exit status 1, no traceback); valid ones are returned unchanged."""
    try:
        return validate_params(params, source)
    except ParamsError as err:
        raise SystemExit(str(err)) from None


def load_params(path: str | Path = "params.yaml") -> dict:
    """Read (with a yaml.SafeLoader) and validate a params file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ParamsError(f"{path}:{line}: not valid UTF-8 (byte 0x{raw[err.start]:02x})") from None
    except IsADirectoryError:
        raise ParamsError(f"{path}: is a directory, not a params file") from None
    except OSError as err:
        raise ParamsError(f"{path}: cannot read: {err.strerror or err}") from None
    loader = _Loader(text)  # a SafeLoader: no python/* tags
    try:
        params = loader.get_single_data()
    except RecursionError:
        where = f"{path}:{loader.get_mark().line + 1}"
        raise ParamsError(f"{where}: not valid YAML: nested too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ParamsError(f"{where}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of settings at the top level")
    try:
        return validate_params(params, str(path))
    except RecursionError:
        raise ParamsError(f"{path}: settings nested too deeply (a recursive YAML alias?)") from None


# -- checks across keys ---------------------------------------------------------------------
# What the schema cannot see, each a one-line problem naming the key. They run on any params
# (also on ones the schema rejects) and skip whatever has the wrong shape: the schema names
# that. The list below is what docs/configuration.md says about them.
CROSS_KEY_CHECKS = (
    "a family named in hpo.families, hpo.compare.families, baseline.family is a key of "
    "tag_families",
    "a variant named in hpo.train_variants, hpo.compare.train_variants, baseline.variant is in "
    "variants.names",
    "with sprint.enabled: sprint.family, variant and algorithm are in hpo.families, "
    "train_variants and algorithms (the sprint is measured against that main study), and "
    "sprint.keep is at most sprint.num_samples",
    "casing_seeds.families are in hpo.families (their best configurations are re-trained)",
    "with objectives.enabled: objectives.family, train_variants and algorithm are in "
    "hpo.families, train_variants and algorithms (they are compared with those main studies), "
    "and objectives.objective is not hpo.objective",
    "hpo.search_space: low is below high; loguniform: low above 0; int: integer bounds; "
    "bounds, values and grid within the range of train.<name>; an integer parameter "
    "(batch_size) is int or choice",
    "asha and tpe (where used): grace_period at most hpo.max_epochs",
    "pbt (where used): a real-valued parameter in hpo.search_space; grid (where used): a grid "
    "or choice values on some parameter",
    "model.name_or_path scratch: model.scratch.hidden_size a multiple of num_heads, "
    "model.max_length at most model.scratch.max_length",
    "corpus.source files: corpus.files.train, dev and test are not empty; corpus.parts: k/n "
    "with 1 <= k <= n and n >= 2, and splits cut from one file cut it into the same number of "
    "parts, take different ones, and no other split reads that file whole",
    "tag_families: O is not mapped (it is no entity type)",
    "pretrain_hpo (where set): probe.family is a key of tag_families and probe.variant in "
    "variants.names; search_space: low below high, loguniform low above 0, mask_probability "
    "in (0, 1), warmup_ratio in [0, 1], batch_size int or choice of integers, casing a choice "
    "of cased, lowercased, both; asha.grace_period at most max_epochs; objective downstream "
    "needs probe.every 1; pbt searches a real-valued parameter",
    "model.continue_pretraining.epochs above 0 only with a model.name_or_path other than scratch",
)

_MISSING = object()
_RANGES = ("loguniform", "uniform", "int")


def _at(params, dotted: str):
    """The value at a dotted key, or _MISSING where the path does not lead through mappings."""
    value = params
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _names(params, dotted: str) -> list[tuple[str, str]]:
    """(key with index, string) for the strings of the list at ``dotted`` ([] if no list)."""
    value = _at(params, dotted)
    if not isinstance(value, list):
        return []
    return [(f"{dotted}.{i}", v) for i, v in enumerate(value) if isinstance(v, str)]


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _listing(names) -> str:
    return _short(", ".join(map(str, names)) or "none", 120)


def _not_in(key: str, value, where: str, defined, why: str = "") -> str:
    return f"{key}: {_short(repr(value), 60)} is not in {where} ({_listing(defined)}){why}"


def _resolved(node: dict) -> dict:
    """A schema node with its $ref (into $defs) filled in; the node's own keywords win."""
    if not isinstance(node, dict) or "$ref" not in node:
        return node
    target = load_schema()["$defs"][node["$ref"].split("/")[-1]]
    return {**_resolved(target), **{k: v for k, v in node.items() if k != "$ref"}}


def _defined_names(params) -> list[str]:
    problems = []
    families = params.get("tag_families")
    if isinstance(families, dict):
        defined = [f for f in families if isinstance(f, str)]
        for key in ("hpo.families", "hpo.compare.families"):
            problems += [
                _not_in(k, f, "tag_families", defined)
                for k, f in _names(params, key)
                if f not in defined
            ]
        family = _at(params, "baseline.family")
        if isinstance(family, str) and family not in defined:
            problems.append(_not_in("baseline.family", family, "tag_families", defined))
    names = _at(params, "variants.names")
    if isinstance(names, list):
        for key in ("hpo.train_variants", "hpo.compare.train_variants"):
            problems += [
                _not_in(k, v, "variants.names", names)
                for k, v in _names(params, key)
                if v not in names
            ]
        variant = _at(params, "baseline.variant")
        if isinstance(variant, str) and variant not in names:
            problems.append(_not_in("baseline.variant", variant, "variants.names", names))
    return problems


def _sprint(params) -> list[str]:
    sprint = params.get("sprint")
    if not isinstance(sprint, dict) or sprint.get("enabled") is not True:
        return []
    problems = []
    why = "; the sprint must be a main study"
    for name, main in (
        ("family", "hpo.families"),
        ("variant", "hpo.train_variants"),
        ("algorithm", "hpo.algorithms"),
    ):
        value, studies = sprint.get(name), _at(params, main)
        if isinstance(value, str) and isinstance(studies, list) and value not in studies:
            problems.append(_not_in(f"sprint.{name}", value, main, studies, why))
    keep, samples = sprint.get("keep"), sprint.get("num_samples")
    if _number(keep) and _number(samples) and keep > samples:
        problems.append(
            f"sprint.keep: {keep!r} is more than sprint.num_samples {samples!r} "
            "(the cheap round's trials)"
        )
    return problems


def _casing_seeds(params) -> list[str]:
    families = _at(params, "hpo.families")
    if not isinstance(families, list):
        return []
    why = "; its training variants' best configurations are re-trained"
    return [
        _not_in(key, family, "hpo.families", families, why)
        for key, family in _names(params, "casing_seeds.families")
        if family not in families
    ]


def _objectives(params) -> list[str]:
    block = params.get("objectives")
    if not isinstance(block, dict) or block.get("enabled") is not True:
        return []
    problems = []
    why = "; the objective's studies are compared with the main studies"
    for name, main in (("family", "hpo.families"), ("algorithm", "hpo.algorithms")):
        value, studies = block.get(name), _at(params, main)
        if isinstance(value, str) and isinstance(studies, list) and value not in studies:
            problems.append(_not_in(f"objectives.{name}", value, main, studies, why))
    for i, variant in _names(params, "objectives.train_variants"):
        studies = _at(params, "hpo.train_variants")
        if isinstance(studies, list) and variant not in studies:
            problems.append(_not_in(i, variant, "hpo.train_variants", studies, why))
    objective = block.get("objective")
    if objective is not None and objective == _at(params, "hpo.objective"):
        problems.append(
            f"objectives.objective: {objective!r} is hpo.objective already (the main studies' "
            "objective); choose another to compare with it"
        )
    return problems


def _value_problems(validator, key: str, value, name: str) -> list[str]:
    return [
        f"{key}: {_short(e.message, 120)}, as for train.{name}"
        for e in validator.iter_errors(value)
    ][:1]


def _search_space(params) -> list[str]:
    import jsonschema

    space = _at(params, "hpo.search_space")
    train = load_schema()["properties"]["train"]["properties"]
    if not isinstance(space, dict):
        return []
    problems = []
    for name, spec in space.items():
        if not isinstance(spec, dict) or name not in train:
            continue
        key = f"hpo.search_space.{name}"
        allowed = {k: v for k, v in _resolved(train[name]).items() if k != "description"}
        validator = jsonschema.Draft202012Validator(allowed)
        kind, low, high = spec.get("type"), spec.get("low"), spec.get("high")
        if kind in _RANGES and _number(low) and _number(high):
            if kind == "int":
                problems += [
                    f"{key}.{b}: {v!r} is not an integer (type int)"
                    for b, v in (("low", low), ("high", high))
                    if not isinstance(v, int)
                ]
            if kind == "loguniform" and low <= 0:
                problems.append(f"{key}.low: {low!r} must be above 0 for type loguniform")
            if low >= high:
                problems.append(f"{key}: low {low!r} must be below high {high!r}")
            if allowed.get("type") == "integer" and kind != "int":
                problems.append(
                    f"{key}.type: {kind!r} draws real numbers, but train.{name} is an integer "
                    "(use int or choice)"
                )
            for bound, value in (("low", low), ("high", high)):
                problems += _value_problems(validator, f"{key}.{bound}", value, name)
        for field in ("values", "grid"):
            values = spec.get(field)
            if isinstance(values, list):
                for i, value in enumerate(values):
                    problems += _value_problems(validator, f"{key}.{field}.{i}", value, name)
    return problems


def _used_algorithms(params) -> dict[str, str]:
    """Algorithm -> the first key that runs it."""
    used = {}
    for key in ("hpo.algorithms", "hpo.compare.algorithms"):
        for _, algorithm in _names(params, key):
            used.setdefault(algorithm, key)
    for block in ("sprint", "objectives"):
        algorithm = _at(params, f"{block}.algorithm")
        if _at(params, f"{block}.enabled") is True and isinstance(algorithm, str):
            used.setdefault(algorithm, f"{block}.algorithm")
    return used


def _algorithms(params) -> list[str]:
    problems, used = [], _used_algorithms(params)
    max_epochs = _at(params, "hpo.max_epochs")
    for algorithm in ("asha", "tpe"):
        grace = _at(params, f"hpo.{algorithm}.grace_period")
        if algorithm in used and _number(grace) and _number(max_epochs) and grace > max_epochs:
            problems.append(
                f"hpo.{algorithm}.grace_period: {grace!r} is more than hpo.max_epochs "
                f"{max_epochs!r} ({algorithm} is in {used[algorithm]})"
            )
    space = _at(params, "hpo.search_space")
    if not isinstance(space, dict):
        return problems
    real = _real_valued()
    if "pbt" in used and not any(n in real for n in space):
        problems.append(
            f"hpo.search_space: pbt (in {used['pbt']}) perturbs real-valued parameters, but none "
            f"is searched (add one of {', '.join(real)})"
        )
    specs = [s for s in space.values() if isinstance(s, dict)]
    if "grid" in used and not any(s.get("grid") or s.get("values") for s in specs):
        problems.append(
            f"hpo.search_space: grid (in {used['grid']}) needs a grid list (or choice values) on "
            "some parameter; without one it trains the train defaults once"
        )
    return problems


def _real_valued() -> list[str]:
    """The searchable parameters whose train default is a real number (what pbt perturbs)."""
    schema = load_schema()["properties"]
    searchable = schema["hpo"]["properties"]["search_space"]["propertyNames"]["enum"]
    train = schema["train"]["properties"]
    return [n for n in searchable if _resolved(train[n]).get("type") == "number"]


def _model(params) -> list[str]:
    if _at(params, "model.name_or_path") != "scratch":
        return []
    problems = []
    hidden, heads = _at(params, "model.scratch.hidden_size"), _at(params, "model.scratch.num_heads")
    if isinstance(hidden, int) and isinstance(heads, int) and heads > 0 and hidden % heads:
        problems.append(
            f"model.scratch.num_heads: {heads!r} does not divide model.scratch.hidden_size "
            f"{hidden!r}"
        )
    length, positions = _at(params, "model.max_length"), _at(params, "model.scratch.max_length")
    if _number(length) and _number(positions) and length > positions:
        problems.append(
            f"model.max_length: {length!r} is more than model.scratch.max_length {positions!r} "
            "(the scratch model's positions)"
        )
    return problems


def _corpus(params) -> list[str]:
    if _at(params, "corpus.source") != "files":
        return []
    return [
        f"corpus.files.{split}: empty, but corpus.source is 'files'"
        for split in ("train", "dev", "test")
        if _at(params, f"corpus.files.{split}") == ""
    ] + _corpus_parts(params)


def _corpus_parts(params) -> list[str]:
    """corpus.parts: k/n with 1 <= k <= n and n >= 2; splits cut from one file cut it alike,
    into different parts, and no split reads that file whole (the splits would overlap)."""
    parts, files = _at(params, "corpus.parts"), _at(params, "corpus.files")
    if not isinstance(parts, dict) or not isinstance(files, dict):
        return []
    problems, cuts = [], {}  # file -> [(split, part text, k, n)]
    for split, text in parts.items():
        if isinstance(text, str) and re.fullmatch(r"[0-9]+/[0-9]+", text):
            k, n = (int(x) for x in text.split("/"))
            if n < 2 or not 1 <= k <= n:
                problems.append(
                    f"corpus.parts.{split}: {text!r} is no part k/n with 1 <= k <= n and n >= 2"
                )
            elif isinstance(files.get(split), str) and files[split]:
                cuts.setdefault(os.path.normpath(files[split]), []).append((split, text, k, n))
    for path, cut in cuts.items():
        problems += _overlaps(path, cut, files, set(parts))
    return problems


def _overlaps(path: str, cut: list, files: dict, named: set) -> list[str]:
    """Problems of the splits ``cut`` from one file: another split (none in corpus.parts)
    reads it whole, or two cut it differently or take the same part."""
    whole = [
        s
        for s, f in files.items()
        if isinstance(f, str) and f and os.path.normpath(f) == path and s not in named
    ]
    problems = []
    for i, (split, text, k, n) in enumerate(cut):
        key = f"corpus.parts.{split}"
        if whole:
            problems.append(
                f"{key}: {text!r} of {_short(path, 80)}, but corpus.files.{whole[0]} reads that "
                "file whole (the splits would overlap)"
            )
        for other, other_text, k2, n2 in cut[:i]:
            if n2 != n or k2 == k:
                why = "takes the same part" if n2 == n else "cuts it into other parts"
                problems.append(
                    f"{key}: {text!r}, but corpus.parts.{other} {other_text!r} of the same file "
                    f"{why} (the splits would overlap)"
                )
    return problems


def _tag_families(params) -> list[str]:
    families = params.get("tag_families")
    if not isinstance(families, dict):
        return []
    return [
        f"tag_families.{name}.O: O is no entity type, so it cannot be mapped"
        for name, mapping in families.items()
        if isinstance(name, str) and isinstance(mapping, dict) and "O" in mapping
    ]


_PRETRAIN_REAL = ("learning_rate", "mask_probability", "warmup_ratio", "weight_decay")
# (lowest, highest, open at both ends, wording) of each real-valued pretraining parameter
_PRETRAIN_RANGES = {
    "learning_rate": (0, None, True, "above 0"),
    "mask_probability": (0, 1, True, "in (0, 1)"),
    "warmup_ratio": (0, 1, False, "in [0, 1]"),
    "weight_decay": (0, None, False, "at least 0"),
}


def _outside(name: str, value) -> bool:
    low, high, open_range, _ = _PRETRAIN_RANGES[name]
    if open_range:
        return value <= low or (high is not None and value >= high)
    return value < low or (high is not None and value > high)


def _pretrain_space(space: dict) -> list[str]:
    problems = []
    for name, spec in space.items():
        if not isinstance(spec, dict):
            continue
        key = f"pretrain_hpo.search_space.{name}"
        kind, low, high = spec.get("type"), spec.get("low"), spec.get("high")
        values = spec.get("values") if isinstance(spec.get("values"), list) else []
        if name == "casing":
            bad = [v for v in values if v not in ("cased", "lowercased", "both")]
            if kind != "choice" or bad:
                shown = f" (not {_listing(bad)})" if bad else ""
                problems.append(f"{key}: must be a choice of cased, lowercased, both{shown}")
            continue
        if name == "batch_size":
            bad = [v for v in values if not isinstance(v, int) or isinstance(v, bool) or v < 1]
            if kind not in ("int", "choice") or bad:
                problems.append(f"{key}: must be int or a choice of integers of at least 1")
            continue
        if kind in _RANGES and _number(low) and _number(high) and low >= high:
            problems.append(f"{key}: low {low!r} must be below high {high!r}")
            continue
        if kind == "loguniform" and _number(low) and low <= 0:
            problems.append(f"{key}.low: {low!r} must be above 0 for type loguniform")
            continue
        bounds = [("low", low), ("high", high)] + [(f"values.{i}", v) for i, v in enumerate(values)]
        for bound, value in bounds:
            if name in _PRETRAIN_RANGES and _number(value) and _outside(name, value):
                problems.append(f"{key}.{bound}: {value!r} is not {_PRETRAIN_RANGES[name][3]}")
                break
    return problems


def _pretrain_hpo(params) -> list[str]:
    block = _at(params, "pretrain_hpo")
    if not isinstance(block, dict):
        return []
    problems = []
    family = _at(params, "pretrain_hpo.probe.family")
    variant = _at(params, "pretrain_hpo.probe.variant")
    families, variants = _at(params, "tag_families"), _at(params, "variants.names")
    if isinstance(family, str) and isinstance(families, dict) and family not in families:
        problems.append(_not_in("pretrain_hpo.probe.family", family, "tag_families", families))
    if isinstance(variant, str) and isinstance(variants, list) and variant not in variants:
        problems.append(_not_in("pretrain_hpo.probe.variant", variant, "variants.names", variants))
    space = block.get("search_space")
    if isinstance(space, dict):
        problems += _pretrain_space(space)
    grace, epochs = _at(params, "pretrain_hpo.asha.grace_period"), block.get("max_epochs")
    if block.get("algorithm") == "asha" and _number(grace) and _number(epochs) and grace > epochs:
        problems.append(
            f"pretrain_hpo.asha.grace_period: {grace!r} is more than pretrain_hpo.max_epochs "
            f"{epochs!r}"
        )
    every = _at(params, "pretrain_hpo.probe.every")
    if block.get("objective") == "downstream" and _number(every) and every != 1:
        problems.append(
            f"pretrain_hpo.probe.every: {every!r}, but objective downstream needs the score at "
            "every epoch (set it to 1, or objective proxy)"
        )
    if block.get("algorithm") == "pbt" and isinstance(space, dict):
        if not any(n in _PRETRAIN_REAL for n in space):
            problems.append(
                "pretrain_hpo.search_space: pbt perturbs real-valued parameters, but none is "
                f"searched (add one of {', '.join(_PRETRAIN_REAL)})"
            )
    return problems


def _continue_pretraining(params) -> list[str]:
    epochs = _at(params, "model.continue_pretraining.epochs")
    if _number(epochs) and epochs > 0 and _at(params, "model.name_or_path") == "scratch":
        return [
            f"model.continue_pretraining.epochs: {epochs!r}, but model.name_or_path is scratch "
            "(pretrained by model.scratch); it continues the pretraining of a local encoder"
        ]
    return []


_CHECKS = (
    _defined_names,
    _sprint,
    _casing_seeds,
    _objectives,
    _search_space,
    _algorithms,
    _model,
    _corpus,
    _tag_families,
    _pretrain_hpo,
    _continue_pretraining,
)


def cross_key_problems(params: dict) -> list[str]:
    """One line per problem across keys, each naming its key (at most one problem per key)."""
    problems, keys = [], set()
    for check in _CHECKS:
        try:
            found = check(params)
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError):
            continue  # a shape the schema rejects (and names)
        for problem in found:
            key = problem.split(": ", 1)[0]
            if key not in keys:
                keys.add(key)
                problems.append(problem)
    return problems


# -- the key table (docs/configuration.md) ----------------------------------------------------
# The name a mapping's free keys get in the table, by the dotted key of the mapping.
_PLACEHOLDERS = {"tag_families": "<family>", "tag_families.<family>": "<type>"}


def _md(text: str) -> str:
    """Plain text for a Markdown table cell."""
    for a, b in (("\\", "\\\\"), ("|", "\\|"), ("*", "\\*"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(a, b)
    return " ".join(text.split())


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _flow(value) -> str:
    """A value as YAML in flow style, on one line."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def _bounds(node: dict) -> str:
    low = (
        (node["minimum"], "[", "≥")
        if "minimum" in node
        else (node["exclusiveMinimum"], "(", ">")
        if "exclusiveMinimum" in node
        else None
    )
    high = (node["maximum"], "]", "≤") if "maximum" in node else None
    if low and high:
        return f" in {low[1]}{low[0]:g}, {high[0]:g}{high[1]}"
    if low or high:
        value, _, sign = low or high
        return f" {sign} {value:g}"
    return ""


def _type_text(node: dict) -> str:
    """What a schema node allows, in a few words of Markdown."""
    node = _resolved(node)
    if "enum" in node:
        return "one of " + ", ".join(_code(str(v)) for v in node["enum"])
    kind = node.get("type", "string" if "pattern" in node else None)
    if kind in ("integer", "number"):
        return f"{kind}{_bounds(node)}"
    if kind == "string":
        if "pattern" in node:
            return f"string matching {_code(node['pattern'])}"
        return "non-empty string" if node.get("minLength") else "string"
    if kind == "array":
        rules = [f"at least {node['minItems']}"] if node.get("minItems") else []
        rules += ["no repeats"] if node.get("uniqueItems") else []
        items = f" of: {_type_text(node['items'])}" if isinstance(node.get("items"), dict) else ""
        return "list" + (f" ({', '.join(rules)})" if rules else "") + items
    if kind == "object":
        if "properties" in node:
            return "mapping"
        if isinstance(node.get("additionalProperties"), dict):
            names = node.get("propertyNames", {})
            keys = _type_text(names) if names else "any"
            value = _resolved(node["additionalProperties"])
            shown = "mapping" if value.get("type") == "object" else _type_text(value)
            return f"mapping; keys: {keys}; values: {shown}"
        return "empty mapping (no settings)"
    return _md(str(kind or "any"))


def _rows(node: dict, path: tuple, params, out: list) -> None:
    """Table rows (key, allowed, default, description) of ``node`` and everything below it."""
    node = _resolved(node)
    key = ".".join(path)
    value = _at(params, key) if params is not None else _MISSING
    properties = node.get("properties")
    free = node.get("additionalProperties")
    if properties:
        default = ""
    elif isinstance(free, dict) and isinstance(value, dict):
        default = "<br>".join(_code(f"{k}: {_flow(v)}") for k, v in value.items()) or _code("{}")
    else:
        default = "" if value is _MISSING else _code(_flow(value))
    out.append((_code(key), _type_text(node), default, _md(node.get("description", ""))))
    for name, sub in (properties or {}).items():
        _rows(sub, (*path, name), params, out)
    if isinstance(free, dict):
        placeholder = _PLACEHOLDERS.get(key, "<name>")
        _rows(free, (*path, placeholder), None, out)


def params_reference(schema: dict, params: dict) -> str:
    """docs/configuration.md: per top-level block a table of its keys (dotted), what each
    allows, its value in ``params`` (the default) and the schema's description."""
    lines = [
        "# Configuration",
        "",
        "Every setting of `params.yaml`, the one place for experiment facts (machine facts live",
        "in `profiles/`). It is the Snakemake config and the DVC params file; every script, DVC",
        "stage and the Snakefile validate it against `workflow/schemas/params.schema.yaml` and the",
        "checks across keys in `nerhpo.core.config`, and stop with one line per problem naming the key.",
        "",
        "Generated from the schema's descriptions and the values in `params.yaml` (the defaults",
        "below) by `python workflow/scripts/params_doc.py`; edit those and regenerate, do not edit",
        "this file (a test fails when it is out of date). `<name>` stands for a key of your",
        "choice.",
        "",
        "## Checks across keys",
        "",
        *[f"* {_md(check)}" for check in CROSS_KEY_CHECKS],
    ]
    required = set(schema.get("required", []))
    for name, node in schema["properties"].items():
        node = _resolved(node)
        rows: list = []
        _rows(node, (name,), params, rows)
        if node.get("properties"):
            rows = rows[1:]  # the block itself: its description heads the section
        optional = "" if name in required else " (optional)"
        lines += ["", f"## {name}{optional}", ""]
        if node.get("description") and node.get("properties"):
            lines += [_md(node["description"][0].upper() + node["description"][1:]) + ".", ""]
        lines += ["| key | allowed | default | description |", "| --- | --- | --- | --- |"]
        lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines) + "\n"
