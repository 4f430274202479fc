"""Turn a request's trials into what skopt is told: observations, lies, and a history window."""

from __future__ import annotations

import math
from dataclasses import dataclass

from katib_suggestion.backends.skopt_space import SpaceCodec
from katib_suggestion.model import SuggestionRequest, TrialState, Value


@dataclass(frozen=True)
class Told:
    """Trials in skopt's coordinates, with the values skopt minimises (None: failed)."""

    finished: list[tuple[list[Value], float | None]]  # completed, pruned and failed, in request order
    pending: list[list[Value]]

    @property
    def observations(self) -> int:
        return sum(1 for _, y in self.finished if y is not None)

    @property
    def worst(self) -> float:
        """The worst value observed (0 before any): what a failed trial is told."""
        return max((y for _, y in self.finished if y is not None), default=0.0)

    def training(self, size: int) -> list[tuple[list[Value], float]]:
        """What the model is fitted on: a window of the finished trials.

        Failed points are told as the worst value seen, so the model steers
        away from regions that crash.
        """
        worst = self.worst
        return window([(x, worst if y is None else y) for x, y in self.finished], size)


def split(request: SuggestionRequest, codec: SpaceCodec) -> Told:
    sign = -1.0 if request.experiment.objective.maximize else 1.0
    finished, pending = [], []
    for trial in request.history:
        x = codec.to_skopt(trial.params)
        if trial.state is TrialState.PENDING:
            pending.append(x)
        # an early-stopped trial's last observation is a pessimistic but real measurement
        elif trial.state in (TrialState.COMPLETED, TrialState.PRUNED) and trial.value is not None:
            finished.append((x, sign * float(trial.value)))
        else:
            finished.append((x, None))
    return Told(_scaled(finished), pending)


# Objective values whose magnitude passes this are scaled down to it.
LARGEST_TOLD = 2.0 ** 64


def _scaled(finished: list[tuple[list[Value], float | None]]) -> list[tuple[list[Value], float | None]]:
    """Values a model can square and sum: finite metrics up to ~1e308 would overflow.

    skopt's GP standardises the values (their squares overflow past ~1e154:
    "Input contains NaN"), and gp_hedge sums predictions into its gains (NaN
    odds past ~1e307, also for the tree models). Dividing by a power of two is
    exact, keeps the order and the proportions, and a GP on standardised values
    gives the same answer; values within 2**64 are told unchanged, because
    gp_hedge's choice among acquisition functions depends on their scale.
    """
    largest = max((abs(y) for _, y in finished if y is not None), default=0.0)
    if largest <= LARGEST_TOLD:
        return finished
    shift = math.frexp(largest)[1] - 64
    return [(x, None if y is None else math.ldexp(y, -shift)) for x, y in finished]


def window(points: list[tuple[list[Value], float]], size: int) -> list[tuple[list[Value], float]]:
    """At most ``size`` points: the best half by value and the most recent, in request order.

    The best points anchor the model where improvement is likely; the recent
    ones carry what the search is exploring now. Ties are broken by position,
    so the window is a pure function of the list.
    """
    if len(points) <= size:
        return points
    best = sorted(range(len(points)), key=lambda i: (points[i][1], i))[: size // 2]
    keep = set(best)
    for index in range(len(points) - 1, -1, -1):
        if len(keep) == size:
            break
        keep.add(index)
    return [points[i] for i in sorted(keep)]
