"""The optuna backend: upstream Katib's optuna algorithms plus Sobol, all stateless."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from katib_suggestion.model import Proposal, SuggestionRequest

# Algorithm key -> "module:function". A module is imported on the first call that
# needs it: cmaes and scipy.stats cost ~60 MiB, which a TPE experiment never needs
# inside Katib's 100Mi default limit.
_BY_ALGORITHM = {
    "tpe": "optuna_samplers:sample",
    "multivariate-tpe": "optuna_samplers:sample",
    "random": "optuna_samplers:sample",
    "cmaes": "cmaes_replay:cmaes_points",
    "grid": "grid:grid_points",
    "sobol": "sobol:sobol_points",
}


@cache
def _function(key: str) -> Callable[[SuggestionRequest], Proposal]:
    module, name = _BY_ALGORITHM[key].split(":")
    return getattr(importlib.import_module(f"katib_suggestion.backends.{module}"), name)


class OptunaBackend:
    """Dispatches on the algorithm key the validators resolved (aliases already mapped)."""

    def __init__(self) -> None:
        _function("tpe")  # fail at start-up, not at the first call, when optuna is missing

    def suggest(self, request: SuggestionRequest) -> Proposal:
        return _function(request.experiment.algorithm)(request)


BACKEND = OptunaBackend()
