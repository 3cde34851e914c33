"""Load params.yaml and validate it against the project's JSON schema.

Snakemake validates its config with the same schema; this module does it for DVC runs
and scripts, and turns jsonschema's messages into ones that name the offending key.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "params.schema.yaml"


class ParamsError(ValueError):
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
    return _short(f"{key}: {error.message}")


def validate_params(params: Any, source: str = "params.yaml") -> dict:
    """Raise ParamsError naming every offending key; return params unchanged if valid."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(params), key=lambda e: list(map(str, e.absolute_path)))
    problems = _non_string_keys(params) + [describe_error(e) for e in errors]
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ParamsError(f"{source}: invalid settings:\n{lines}")
    return params


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
