"""The one figure helper of the report, the findings and the comparison: a headless pyplot,
and PNGs written atomically without a version string, so the same data give the same bytes."""

from __future__ import annotations

import io
from pathlib import Path

from nerhpo.core.atomic import atomic_write_bytes

DPI = 100


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` atomically, without matplotlib's version in its metadata."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    atomic_write_bytes(path, buffer.getvalue())
    return path
