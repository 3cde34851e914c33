"""Reading what Ray Tune leaves in a trial's folder, in one place.

Why: a trial killed before its first report leaves no ``progress.csv``, or an empty or cut-off
one; every reader (best F1, checkpoint pruning, anytime curves) must treat that as "no rows",
never crash on it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_progress(trial_dir: str | Path) -> pd.DataFrame:
    """The trial's ``progress.csv`` (one row per report), or an empty frame if there is none
    or it cannot be parsed."""
    path = Path(trial_dir) / "progress.csv"
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        return pd.DataFrame()
