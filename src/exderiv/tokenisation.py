"""Toy unigram tokenisation: a corpus, a vocabulary, lattices and codes.

Derived and shown in *Viterbi sampling* (``book/tokenisation/viterbi-sampling``)
and reused by *Perfect sampling* (``book/tokenisation/perfect-sampling``): a toy
language without spaces, its unigram vocabulary, the lattice of candidate
pieces, brute-force enumeration of segmentations, the integer code of a
segmentation, a BytePiece tokenizer with the same vocabulary, and a timer.
"""

from __future__ import annotations

import base64
import collections
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from exderiv.seeding import numpy_generator

if TYPE_CHECKING:
    import bytepiece

__all__ = [
    "backtrace_codes",
    "best_time",
    "bytepiece_tokenizer",
    "cut_code",
    "lattice",
    "make_corpus",
    "random_substrings",
    "segmentations",
    "unigram_vocabulary",
]

_CONSONANTS, _VOWELS = list("bdgklmnprst"), list("aeiou")


def make_corpus(n_sentences: int, seed: int) -> list[str]:
    """A toy language without spaces: ``n_sentences`` strings of 6-15 words
    each, drawn with Zipf frequencies from 120 consonant-vowel words.

    Returns a list of ``n_sentences`` strings; the same seed gives the same
    lexicon and sentences.

    Shown in: book/tokenisation/viterbi-sampling
    """
    if not isinstance(n_sentences, int) or n_sentences < 1:
        raise ValueError("need at least one sentence")
    rng = numpy_generator(seed)
    lexicon = set()
    while len(lexicon) < 120:
        k = int(rng.integers(1, 4))
        lexicon.add("".join(c + v for c, v in zip(
            rng.choice(_CONSONANTS, k), rng.choice(_VOWELS, k), strict=True)))
    zipf = 1 / np.arange(1, 121)
    words = rng.choice(sorted(lexicon), size=(n_sentences, 15),
                       p=zipf / zipf.sum())
    lengths = rng.integers(6, 16, size=n_sentences)
    return ["".join(row[:n]) for row, n in zip(words, lengths, strict=True)]


def random_substrings(sentences: Sequence[str], n: int,
                      lengths: tuple[int, int], seed: int) -> list[str]:
    """``n`` substrings of the sentences, lengths drawn uniformly from the
    half-open range ``lengths = (low, high)``.

    Every sentence must be at least ``high - 1`` characters long.

    Shown in: book/tokenisation/viterbi-sampling
    """
    low, high = lengths
    if not sentences or n < 0 or not 1 <= low < high:
        raise ValueError("need sentences, n >= 0 and lengths = (low, high) "
                         f"with 1 <= low < high, got {lengths!r}")
    if min(map(len, sentences)) < high - 1:
        raise ValueError(f"a sentence is shorter than {high - 1} characters")
    rng = numpy_generator(seed)
    out = []
    for i in rng.integers(0, len(sentences), size=n):
        size = int(rng.integers(*lengths))
        start = int(rng.integers(0, len(sentences[i]) - size + 1))
        out.append(sentences[i][start:start + size])
    return out


def unigram_vocabulary(sentences: Sequence[str], max_len: int = 6,
                       min_count: int = 40) -> tuple[dict, dict]:
    """Returns ``({piece: log p(piece)}, {piece: count})`` for every substring
    of at most ``max_len`` characters seen ``min_count`` times, and every single
    character; ``p`` is the count divided by the total count of kept pieces.

    Shown in: book/tokenisation/viterbi-sampling
    """
    if not sentences or max_len < 1:
        raise ValueError("need sentences and max_len >= 1")
    counts = collections.Counter()
    for sentence in sentences:
        for size in range(1, max_len + 1):
            counts.update(sentence[i:i + size]
                          for i in range(len(sentence) - size + 1))
    kept = {w: c for w, c in counts.items() if c >= min_count or len(w) == 1}
    total = sum(kept.values())
    return {w: math.log(c / total) for w, c in kept.items()}, kept


def lattice(text: str, log_p: dict, max_len: int = 6) -> list:
    """Candidate pieces of ``text`` by end position: a list of ``len(text)``
    lists, entry ``e - 1`` holding ``(s, log p)`` for every piece
    ``text[s:e]`` of at most ``max_len`` characters in the vocabulary
    ``log_p``, longest piece first.

    Shown in: book/tokenisation/viterbi-sampling
    """
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty string")
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len!r}")
    return [[(s, log_p[text[s:e]]) for s in range(max(0, e - max_len), e)
             if text[s:e] in log_p] for e in range(1, len(text) + 1)]


def segmentations(text: str, log_p: dict, max_len: int = 6) -> dict:
    """Every segmentation of ``text`` (1 to 14 characters), by brute force:
    ``{cuts: score}``, with ``cuts`` the increasing end positions of the
    pieces (a tuple) and the score the sum of their ``log p``.

    Shown in: book/tokenisation/viterbi-sampling
    """
    if not isinstance(text, str) or not 0 < len(text) <= 14:
        raise ValueError("brute force is for strings of 1 to 14 characters")
    found = {}

    def extend(start, cuts, score):
        if start == len(text):
            found[tuple(cuts)] = score
            return
        for end in range(start + 1, min(len(text), start + max_len) + 1):
            if text[start:end] in log_p:
                extend(end, cuts + [end], score + log_p[text[start:end]])

    extend(0, [], 0.0)
    return found


def cut_code(cuts: Iterable[int]) -> int:
    """Integer code ``sum of 2**e`` over the cuts (end positions, each >= 1)
    of one segmentation.

    Shown in: book/tokenisation/viterbi-sampling
    """
    cuts = list(cuts)
    if any(e < 1 for e in cuts):
        raise ValueError(f"cuts are end positions >= 1, got {cuts!r}")
    return sum(1 << e for e in cuts)


def backtrace_codes(back: torch.Tensor) -> torch.Tensor:
    """Cut codes (n,) long from n rows of back pointers, ``back`` of shape
    (n, l + 1) with ``back[i, e]`` the start of the piece ending at ``e``.

    Row ``i`` gives ``cut_code`` of the segmentation traced back from ``l``.

    Shown in: book/tokenisation/viterbi-sampling
    """
    if not isinstance(back, torch.Tensor) or back.ndim != 2:
        raise ValueError("back must be a 2-D tensor (n, l + 1)")
    if back.dtype != torch.long:
        raise ValueError(f"back must be of dtype torch.long, got {back.dtype}")
    n, length = back.shape[0], back.shape[1] - 1
    pos = torch.full((n,), length)
    code = torch.zeros(n, dtype=torch.long)
    for _ in range(length):
        live = pos > 0
        code = code | torch.where(live, torch.ones_like(pos) << pos, 0)
        pos = torch.where(live, back.gather(1, pos[:, None])[:, 0], 0)
    return code


def bytepiece_tokenizer(counts: dict, seed: int) -> bytepiece.Tokenizer:
    """A BytePiece tokenizer with the given pieces and positive counts
    ``{piece: count}``; its ``log p(w)`` is ``log(count / total)``, as in
    ``unigram_vocabulary``. Needs the ``bytepiece`` package.

    Shown in: book/tokenisation/viterbi-sampling
    """
    import bytepiece

    if not counts or min(counts.values()) <= 0:
        raise ValueError("need positive counts")
    pieces = {base64.b64encode(w.encode()).decode(): [i + 3, w, c]
              for i, (w, c) in enumerate(counts.items())}
    return bytepiece.Tokenizer(pieces, seed=seed)


def best_time(run: Callable[[], object], repeats: int = 5) -> float:
    """Shortest of ``repeats`` wall-clock times of ``run()``, in seconds.

    Shown in: book/tokenisation/viterbi-sampling
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)
