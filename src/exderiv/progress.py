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
    """A plain-text tqdm bar on stderr, without times or rates.

    Text rather than a widget: the rendered book then needs no widget JavaScript
    from a CDN. No clock in the bar: once the stored output has its carriage
    returns applied (tools/refresh_outputs.py), only the final state remains,
    "training: 100%|####| 500/500", the same on every run and every machine.

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
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}",
    )
