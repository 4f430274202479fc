"""The one interface every optimisation backend implements."""

from __future__ import annotations

from typing import Protocol

from katib_suggestion.model import Proposal, SuggestionRequest


class Backend(Protocol):
    """Suggests points for an experiment from its full history, holding no state.

    Lifecycle: a server imports one backend module at start-up and calls
    ``suggest`` from many threads at once, each call with the whole history of
    one experiment (completed, pending, failed and pruned trials). Everything a
    call needs is in the request, so a freshly started process gives the same
    answer to the same request. The backend should avoid the points of pending
    trials (constant liar or equivalent); the caller still removes any point
    that repeats a trial or an earlier point of the batch and asks again.

    ``suggest`` returns a Proposal of ``request.count`` points whose values are
    feasible: inside bounds, on the step grid, from the list for discrete and
    categorical parameters. Errors it raises on purpose are SuggestionErrors;
    anything else is reported as INTERNAL.
    """

    def suggest(self, request: SuggestionRequest) -> Proposal: ...
