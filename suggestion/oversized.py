"""Experiments another suggestion service accepted although their space holds fewer points than maxTrialCount.

Our ValidateAlgorithmSettings refuses such an Experiment (a later call would run
out of points), but one already running under upstream's image reaches us when an
operator switches images. GetSuggestions then judges it by what it can still do:
maxTrialCount capped at the space's size. It serves every point not yet tried;
the one batch that asks for more than are left gets the untried points and, for
its other slots, repeats of the best trials (labelled, so it shows: Katib needs
exactly the count it asked for); once none is left it fails, saying why.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from katib_suggestion.errors import SearchSpaceExhausted
from katib_suggestion.model import Point, SearchSpace, Trial, TrialState
from katib_validators.counts import INT32_MAX
from katib_validators.counts import count as whole
from katib_validators.search_space import parse_search_space

REPEAT_LABEL = {"katib-suggest/origin": "repeat-space-exhausted"}
_COUNTS = ("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount")


def capped(doc: Mapping[str, Any]) -> tuple[Mapping[str, Any], int | None]:
    """``doc`` with its counts lowered to the space's size when maxTrialCount exceeds it (or is unset for a finite
    space), and that size; ``(doc, None)`` when the space is large enough or does not parse (validation says)."""
    spec = doc.get("spec") if isinstance(doc.get("spec"), Mapping) else {}
    space, problems = parse_search_space(spec.get("parameters"))
    if space is None or problems or not space.is_finite:
        return doc, None
    size, wanted = space.cardinality(), whole(spec.get("maxTrialCount"))
    if 0 < wanted <= size or size >= INT32_MAX:  # Katib's counters are int32: it cannot ask for more than that
        return doc, None
    lowered = copy.deepcopy(dict(doc))
    for field in _COUNTS:
        value = whole(lowered["spec"].get(field))
        if field == "maxTrialCount" or value > size:
            lowered["spec"][field] = size
    return lowered, size


class Exhausted(SearchSpaceExhausted):
    """Every point of an oversized running Experiment has been tried."""

    def __init__(self, size: int, seen: int, wanted: int):
        super().__init__(size, seen, wanted)
        self.args = (f"every one of the {size} distinct points of the search space has been tried, and Katib asks "
                     f"for {wanted} more: maxTrialCount is larger than the space (this Experiment was accepted by "
                     "another suggestion service; ours refuses it at validation). Nothing new can be suggested: the "
                     "Experiment has its results; lower maxTrialCount to the number of trials it has, or widen the "
                     "search space",)


def untried(space: SearchSpace, history: list[Trial]) -> int:
    return space.cardinality() - len({space.key(t.params) for t in history})


def repeats(history: list[Trial], count: int, maximize: bool) -> list[Point]:
    """``count`` points of the best completed trials (then of the others), to fill a batch the space cannot."""
    sign = -1.0 if maximize else 1.0
    scored = [t.state is TrialState.COMPLETED and t.value is not None for t in history]
    completed = sorted((t for t, ok in zip(history, scored, strict=True) if ok), key=lambda t: sign * t.value)
    others = [t for t, ok in zip(history, scored, strict=True) if not ok]
    ranked = [t.params for t in [*completed, *others]]
    return [dict(ranked[i % len(ranked)]) for i in range(count)]
