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
    # tight: a title or legend placed outside the axes stays inside the image
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())
    return path


# per series, so lines that coincide stay distinguishable without colour
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def series_style(i: int) -> dict:
    """Colour, line style and marker of the ``i``-th series of a figure."""
    return {
        "color": f"C{i % 10}",
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }
