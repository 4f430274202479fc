"""Grid search: every point of a finite space once, in an order fixed by the experiment seed."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

from katib_suggestion.model import Proposal, SuggestionRequest

SHUFFLE_LIMIT = 10_000  # larger grids are walked in a pseudo-random order computed point by point


def grid_points(request: SuggestionRequest) -> Proposal:
    space = request.experiment.space
    size = space.cardinality()
    seen = {space.index_of(t.params) for t in request.history}
    # the experiment seed (not the per-call one) keeps the order the same across calls
    order = _order(size, request.experiment.settings["random_state"])
    points = []
    for index in order:
        if index not in seen:
            points.append(space.point_at(index))
            if len(points) == request.count:
                break
    return Proposal(points)


def _order(size: int, seed: int) -> Iterator[int]:
    if size <= SHUFFLE_LIMIT:
        indices = list(range(size))
        random.Random(seed).shuffle(indices)
        return iter(indices)
    return _permuted(size, seed)


def _permuted(size: int, seed: int) -> Iterator[int]:
    """0 .. size-1 in a seeded pseudo-random order, one at a time, for grids of any size.

    A four-round Feistel network permutes the smallest even-bit range holding
    ``size``; positions that land outside are mapped again (cycle walking), so
    the result is a permutation of 0 .. size-1. Shuffling a list instead costs
    seconds per call for a million points; this costs a few hashes per point.
    """
    half = max(1, ((size - 1).bit_length() + 1) // 2)
    mask, width = (1 << half) - 1, (half + 7) // 8

    def mix(value: int, round_: int) -> int:
        digest = hashlib.shake_256(f"{seed}:{round_}:{value}".encode()).digest(width)
        return int.from_bytes(digest, "little") & mask

    def permute(x: int) -> int:
        while True:
            left, right = x >> half, x & mask
            for round_ in range(4):
                left, right = right, left ^ mix(right, round_)
            x = (left << half) | right
            if x < size:
                return x

    return (permute(position) for position in range(size))
