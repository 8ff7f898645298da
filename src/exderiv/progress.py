"""Progress bars for training loops that take more than a few seconds."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm.std import tqdm

__all__ = ["progress"]

T = TypeVar("T")


def progress(
    iterable: Iterable[T], desc: str, total: int | None = None
) -> Iterable[T]:
    """A plain-text tqdm bar on stderr.

    Text rather than a widget: the rendered book then needs no widget JavaScript
    from a CDN. nbval does compare stderr, so ``tests/nbval_sanitize.cfg`` blurs
    the bar's counts and timings before the comparison.

    Shown in: book/toolkit
    """
    if not desc:
        raise ValueError(
            "desc must name what is being iterated (e.g. 'training')"
        )
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        file=sys.stderr,
        ascii=True,
        ncols=80,
        mininterval=0.5,
    )
