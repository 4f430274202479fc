"""The optuna backend: upstream Katib's optuna algorithms plus Sobol, all stateless."""

from __future__ import annotations

from katib_suggestion.backends.cmaes_replay import cmaes_points
from katib_suggestion.backends.grid import grid_points
from katib_suggestion.backends.optuna_samplers import sample
from katib_suggestion.backends.sobol import sobol_points
from katib_suggestion.model import Proposal, SuggestionRequest

_BY_ALGORITHM = {
    "tpe": sample,
    "multivariate-tpe": sample,
    "random": sample,
    "cmaes": cmaes_points,
    "grid": grid_points,
    "sobol": sobol_points,
}


class OptunaBackend:
    """Dispatches on the algorithm key the validators resolved (aliases already mapped)."""

    def suggest(self, request: SuggestionRequest) -> Proposal:
        return _BY_ALGORITHM[request.experiment.algorithm](request)


BACKEND = OptunaBackend()
