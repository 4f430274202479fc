"""Grid search: every point of a finite space once, in an order fixed by the experiment seed."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from katib_suggestion.model import Proposal, SuggestionRequest

# Larger grids walk an affine permutation instead of a shuffled list: every call (and
# Validate's dry run) shuffles the whole list, and 1,000,000 points took 1.4 s of one core
# and 34 MiB, above a call's memory budget (katib_validators/costs.py); 100,000 take 0.1 s, 3.5 MiB.
SHUFFLE_LIMIT = 100_000


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
    rng = random.Random(seed)
    if size <= SHUFFLE_LIMIT:
        indices = list(range(size))
        rng.shuffle(indices)
        return iter(indices)
    multiplier = rng.randrange(1, size)
    while math.gcd(multiplier, size) != 1:
        multiplier += 1
    offset = rng.randrange(size)
    return ((multiplier * i + offset) % size for i in range(size))
