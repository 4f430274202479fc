"""Scrambled Sobol sequence: point i of the experiment's sequence is the i-th suggestion."""

from __future__ import annotations

import warnings

from scipy.stats import qmc

from katib_suggestion.model import Proposal, SuggestionRequest

# batches are whatever Katib asks for, rarely a power of two
warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
EXTRA_DRAWS = 1024  # points skipped at most when steps or lists make the sequence repeat a trial


def sobol_points(request: SuggestionRequest) -> Proposal:
    space = request.experiment.space
    engine = qmc.Sobol(d=len(space), scramble=True, seed=request.experiment.settings["random_state"])
    # The position in the sequence comes from the request, so a restart continues it.
    if request.suggested_before:  # scipy rejects fast_forward(0)
        engine.fast_forward(request.suggested_before)
    seen = {space.key(t.params) for t in request.history}
    points = []
    for vector in engine.random(request.count + EXTRA_DRAWS):
        point = space.from_unit(vector)
        key = space.key(point)
        if key not in seen:
            seen.add(key)
            points.append(point)
            if len(points) == request.count:
                break
    return Proposal(points)
