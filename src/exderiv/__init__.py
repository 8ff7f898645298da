"""Shared helpers of *Executable Derivations*.

What lives here is what more than one chapter needs: the check helper, local random generators,
the plot style, data sets that need no download, and progress bars. The mathematics of each
chapter stays in that chapter's own cells.
"""

from exderiv.checks import (
    CheckFailed,
    CheckRecord,
    check,
    check_close,
    clear_checks,
    recorded_checks,
    verified_table,
)
from exderiv.data import digits, ring_of_gaussians
from exderiv.metrics import gaussian_kernel_mmd2
from exderiv.models import TimeConditionedMLP
from exderiv.plotting import BOOK_COLORS, use_book_style
from exderiv.progress import progress
from exderiv.seeding import numpy_generator, torch_generator

__all__ = [
    "BOOK_COLORS",
    "CheckFailed",
    "CheckRecord",
    "TimeConditionedMLP",
    "check",
    "check_close",
    "clear_checks",
    "digits",
    "gaussian_kernel_mmd2",
    "numpy_generator",
    "progress",
    "recorded_checks",
    "ring_of_gaussians",
    "torch_generator",
    "use_book_style",
    "verified_table",
]
