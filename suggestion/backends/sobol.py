"""Scrambled Sobol sequence: point i of the experiment's sequence is the i-th suggestion."""

from __future__ import annotations

from katib_suggestion.backends.sobol_sequence import BITS, sobol
from katib_suggestion.model import Proposal, SuggestionRequest

EXTRA_DRAWS = 1024  # points skipped at most when steps or lists make the sequence repeat a trial


def sobol_points(request: SuggestionRequest) -> Proposal:
    space = request.experiment.space
    # The position in the sequence comes from the request, so a restart continues it;
    # the scrambling comes from the experiment seed, so it is the same on every call.
    draws = request.count + EXTRA_DRAWS
    # every position Katib can send is inside the sequence; past its end it starts over
    start = request.suggested_before % (2**BITS - draws)
    vectors = sobol(len(space), start, draws, seed=request.experiment.settings["random_state"])
    seen = set(request.taken_keys())
    points = []
    for vector in vectors:
        point = space.from_unit(vector)
        key = space.key(point)
        if key not in seen:
            seen.add(key)
            points.append(point)
            if len(points) == request.count:
                break
    return Proposal(points)
