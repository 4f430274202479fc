"""Parameters with a single value (min == max, a one-entry list) are hidden from backends and put back."""

from __future__ import annotations

from dataclasses import replace

from katib_suggestion.backend import Backend
from katib_suggestion.model import Point, Proposal, SearchSpace, SuggestionRequest


class WithoutFixed:
    """Wraps a backend so it only sees the dimensions there is something to tune in.

    Upstream Katib accepts min == max to hold a parameter fixed. No library
    models a zero-width range (optuna and skopt refuse it, CMA-ES divides by
    it), and a constant says nothing about the objective, so every backend
    gets the space without such dimensions and every answer gets their value back.
    """

    def __init__(self, backend: Backend):
        self.backend = backend

    def suggest(self, request: SuggestionRequest) -> Proposal:
        space = request.experiment.space
        fixed = {p.name: p.value_at(0) for p in space if p.is_fixed}
        if not fixed:
            return self.backend.suggest(request)
        if len(fixed) == len(space):  # one point in all: nothing to ask
            return Proposal([_complete({}, fixed, space) for _ in range(request.count)])
        free = SearchSpace(tuple(p for p in space if p.name not in fixed))
        history = tuple(replace(t, params={n: v for n, v in t.params.items() if n not in fixed})
                        for t in request.history)
        proposal = self.backend.suggest(replace(  # keys of the full space do not fit the free one
            request, experiment=replace(request.experiment, space=free), history=history, taken=None))
        return replace(proposal, points=[_complete(point, fixed, space) for point in proposal.points])


def _complete(point: Point, fixed: Point, space: SearchSpace) -> Point:
    return {p.name: fixed[p.name] if p.name in fixed else point[p.name] for p in space}
