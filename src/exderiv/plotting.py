"""One plot style for the whole book: figures look alike in every chapter."""

from __future__ import annotations

import matplotlib as mpl

__all__ = ["BOOK_COLORS", "use_book_style"]

BOOK_COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#17becf",
)
"""Colour cycle (colour-blind-safe enough for two or three series per panel).

Shown in: book/toolkit
"""


def use_book_style() -> None:
    """Set matplotlib's rcParams to the book's style (sizes, grid, colours, PNG
    resolution).

    Shown in: book/toolkit
    """
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.constrained_layout.use": True,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "axes.prop_cycle": mpl.cycler(color=list(BOOK_COLORS)),
            # Text stays text in SVG and keeps PNG output byte-stable across
            # runs.
            "svg.fonttype": "none",
            "path.simplify": False,
        }
    )
