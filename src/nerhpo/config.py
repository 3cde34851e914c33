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


def describe_error(error) -> str:
    """One line naming the key and what was expected."""
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        names = ", ".join(f"{key}.{e}" if error.absolute_path else e for e in extra)
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {names}{hint}"
    if error.validator == "required":
        return f"{key}: {error.message}"
    if error.validator == "enum":
        return f"{key}: {error.instance!r} is not one of {error.validator_value}"
    if error.validator == "type":
        expected = error.validator_value
        return f"{key}: expected {expected}, got {type(error.instance).__name__} {error.instance!r}"
    return f"{key}: {error.message}"


def validate_params(params: Any, source: str = "params.yaml") -> dict:
    """Raise ParamsError naming every offending key; return params unchanged if valid."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(params), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n".join(f"  - {describe_error(e)}" for e in errors)
        raise ParamsError(f"{source}: invalid settings:\n{lines}")
    return params


def load_params(path: str | Path = "params.yaml") -> dict:
    """Read (with yaml.safe_load) and validate a params file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise ParamsError(f"{path}: not valid UTF-8") from None
    try:
        params = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ParamsError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of settings at the top level")
    return validate_params(params, str(path))
