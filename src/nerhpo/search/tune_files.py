"""Reading what Ray Tune leaves in a trial's folder, in one place.

Why: a trial killed before its first report leaves no ``progress.csv``, or an empty or cut-off
one; every reader (best F1, checkpoint pruning, anytime curves) must treat that as "no rows",
never crash on it. A trial folder's name tells the order in which Tune created the trial.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd


def read_progress(trial_dir: str | Path, **read_csv_args) -> pd.DataFrame:
    """The trial's ``progress.csv`` (one row per report), or an empty frame if there is none
    or it cannot be parsed. ``read_csv_args`` go to pandas (e.g. ``dtype={"trial_id": str}``:
    an id such as ``4e139717`` reads as a float otherwise)."""
    path = Path(trial_dir) / "progress.csv"
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(path, **read_csv_args)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        return pd.DataFrame()


def trial_number(path: str | None) -> int:
    """The order in which Tune created a trial, from its directory name
    (`trainable_<id>_<number>_<config>_<date>`; the basic generator's ids hold a counter too:
    `trainable_<run>_<counter>_<number>_...`), or -1 for another name. Unlike the trial id,
    which a search algorithm draws at random, the number is the same in every run of a seeded
    study."""
    match = re.match(r"[^_]+_(?:[0-9a-f]+_)?(?:\d{5}_)?(\d+)_", Path(path or "").name)
    return int(match.group(1)) if match else -1
