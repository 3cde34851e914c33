"""Reading the pipeline's own result files (JSON, CSV) in the stages that combine them.

Why one place: the report, findings, comparison and sprint stages all read what earlier jobs
wrote; a missing or unreadable file must end each of them the same way, with one line that
names the file (in the stage's own error class, which its script reports), never a traceback
or a silently skipped study.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd


class ResultFileError(ValueError):
    """A result file is missing or unreadable (one line, naming the file)."""


def _existing(path: str | Path, error: type[Exception]) -> Path:
    path = Path(path)
    if not path.is_file():
        raise error(f"missing input file {path}")
    return path


def read_json(path: str | Path, error: type[Exception] = ResultFileError) -> Any:
    """The parsed JSON file; ``error`` (one line) if it is missing or not valid JSON."""
    path = _existing(path, error)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path}: not valid JSON ({err})") from None


def read_csv(
    path: str | Path, error: type[Exception] = ResultFileError, **read_csv_args
) -> pd.DataFrame:
    """The CSV file as a table; ``error`` (one line) if it is missing or not readable."""
    path = _existing(path, error)
    try:
        return pd.read_csv(path, **read_csv_args)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise error(f"{path}: not a readable CSV ({str(err).splitlines()[0]})") from None
