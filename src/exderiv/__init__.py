"""Shared helpers of *Executable Derivations*.

What lives here is what more than one chapter needs: the check helper, local
random generators, the plot style, data sets that need no download, progress
bars, and the toy unigram tokenisation of the tokenisation chapters. The
mathematics of each chapter stays in that chapter's own cells.
"""

from exderiv.checks import (
    CheckFailed,
    CheckRecord,
    WrongVersion,
    check,
    check_close,
    check_formula,
    clear_checks,
    recorded_checks,
    verified_table,
)
from exderiv.data import digits, ring_of_gaussians
from exderiv.diffusion import (
    DDPMSchedule,
    RingRecipe,
    ddpm_loss,
    ddpm_sample,
    diffuse,
    linear_schedule,
    reverse_mean,
    reverse_std,
    train_ddpm,
    train_ring_ddpm,
)
from exderiv.errata import Erratum, erratum, recorded_errata
from exderiv.metrics import gaussian_kernel_mmd2, pearson_chi_square
from exderiv.models import TimeConditionedMLP, seeded_init_
from exderiv.plotting import BOOK_COLORS, use_book_style
from exderiv.progress import progress
from exderiv.rounding import clear_of_rounding
from exderiv.seeding import numpy_generator, torch_generator
from exderiv.tokenisation import (
    backtrace_codes,
    best_time,
    bytepiece_tokenizer,
    cut_code,
    lattice,
    make_corpus,
    random_substrings,
    segmentations,
    unigram_vocabulary,
)

__all__ = [
    "BOOK_COLORS",
    "CheckFailed",
    "CheckRecord",
    "DDPMSchedule",
    "Erratum",
    "RingRecipe",
    "TimeConditionedMLP",
    "WrongVersion",
    "backtrace_codes",
    "best_time",
    "bytepiece_tokenizer",
    "check",
    "check_close",
    "check_formula",
    "clear_checks",
    "clear_of_rounding",
    "cut_code",
    "ddpm_loss",
    "ddpm_sample",
    "diffuse",
    "digits",
    "erratum",
    "gaussian_kernel_mmd2",
    "lattice",
    "linear_schedule",
    "make_corpus",
    "numpy_generator",
    "pearson_chi_square",
    "progress",
    "random_substrings",
    "recorded_checks",
    "recorded_errata",
    "reverse_mean",
    "reverse_std",
    "ring_of_gaussians",
    "seeded_init_",
    "segmentations",
    "torch_generator",
    "train_ddpm",
    "train_ring_ddpm",
    "unigram_vocabulary",
    "use_book_style",
    "verified_table",
]
