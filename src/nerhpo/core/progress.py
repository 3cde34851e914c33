"""Progress bars where a person waits at a terminal, and nothing where a log file is written.

Why: a pipeline job's output goes to its log, where a redrawn bar is noise (the job logs a
line per epoch or file instead); a script run by hand at a terminal shows a bar.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def at_terminal() -> bool:
    return sys.stderr.isatty()


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """``items``, with a rich progress bar on stderr when it is a terminal."""
    if not at_terminal():
        yield from items
        return
    from rich.console import Console
    from rich.progress import track

    console = Console(stderr=True)
    yield from track(items, description, total=total, transient=True, console=console)
