"""The no-repeat guarantee around any backend, and the exhaustion error."""

import pytest
from conftest import FINITE_PARAMETERS, make_experiment
from katib_suggestion.batch import suggest_unique
from katib_suggestion.errors import SearchSpaceExhausted
from katib_suggestion.model import Proposal, SuggestionRequest, Trial, TrialState


class Stubborn:
    """A backend that always proposes the same point (the upstream hyperopt bug, #1329)."""

    def __init__(self, point):
        self.point, self.calls = point, 0

    def suggest(self, request):
        self.calls += 1
        return Proposal([dict(self.point)] * request.count, {"stub": "yes"})


def _request(count, history=()):
    experiment = make_experiment("optuna", "random", FINITE_PARAMETERS, max_trials=24)  # 3 * 4 * 2 = 24 points
    return SuggestionRequest(experiment, tuple(history), count, seed=1)


POINT = {"dropout": 0.1, "layers": 1, "optimizer": "sgd"}


def test_a_repeating_backend_still_yields_distinct_points():
    backend = Stubborn(POINT)
    batch = suggest_unique(backend, _request(5))
    keys = {tuple(sorted(p.items())) for p in batch.points}
    assert len(batch.points) == 5 and len(keys) == 5
    assert batch.fallback == 4 and batch.labels == {"stub": "yes"}
    assert batch.points[0] == POINT


def test_points_of_pending_and_finished_trials_are_never_repeated():
    history = [Trial("t1", POINT, TrialState.PENDING)]
    batch = suggest_unique(Stubborn(POINT), _request(3, history))
    assert POINT not in batch.points


def test_exhausted_space_names_its_size():
    experiment = make_experiment("optuna", "random", FINITE_PARAMETERS, max_trials=24)
    history = [Trial(f"t{i}", experiment.space.point_at(i), TrialState.COMPLETED, 0.0) for i in range(22)]
    with pytest.raises(SearchSpaceExhausted, match="24 distinct points and 22 are already taken"):
        suggest_unique(Stubborn(POINT), _request(3, history))
    assert len(suggest_unique(Stubborn(POINT), _request(2, history)).points) == 2
