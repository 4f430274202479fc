"""The one interface every optimisation backend implements."""

from __future__ import annotations

from typing import Protocol

from katib_suggestion.model import Proposal, SuggestionRequest


class Backend(Protocol):
    """Suggests points for an experiment from its full history, holding no state.

    Lifecycle: a server imports one backend module at start-up and calls
    ``suggest`` from many threads at once, each call with the whole history of
    one experiment (completed, pending, failed and pruned trials). Everything a
    call needs is in the request: seed every random choice with ``request.seed``,
    so the same request gets the same answer, in this process or a fresh one.

    The answer, in one place (plugin authors: this is the contract the
    conformance kit checks):

    - Count: ``request.count`` points. Fewer (a short batch) only when the backend
      cannot find more new points, for example on a nearly used-up finite space;
      the core then asks again, up to 4 rounds with the accepted points as
      pending, and fills what is still missing with uniformly drawn unseen points
      (labelled ``katib-suggest/origin: uniform-fallback``). The kit's spaces
      always have room, so there the full count is required. Extra points are
      dropped.
    - Repeats: the backend must not propose a point of a pending trial or the
      same point twice in one batch (constant liar or equivalent: a repeat means
      the model did not see the pending trials). The core
      (``batch.suggest_unique``) still removes any point that repeats a trial of
      the history or the batch, each costing a randomly filled slot; the kit
      checks ``suggest``'s own answer, before that guard, so it catches repeats
      the guard would hide.
    - Values are feasible: inside bounds, on the step grid, from the list for
      discrete and categorical parameters.
    - Errors it raises on purpose are SuggestionErrors; anything else is
      reported as INTERNAL.
    """

    def suggest(self, request: SuggestionRequest) -> Proposal: ...
