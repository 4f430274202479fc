"""Apply a call's budget plan: the history window the algorithm sees, and the label of a degraded batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from katib_suggestion.backend import Backend
from katib_suggestion.model import Proposal, SuggestionRequest, Trial, TrialState
from katib_validators.budget import Plan

DEGRADED_LABEL = "katib-suggest/degraded"
BEST_SHARE = 4  # a quarter of a window holds the best completed trials, the rest the most recent


def window(trials: Sequence[Trial], size: int, maximize: bool) -> tuple[Trial, ...]:
    """At most ``size`` trials in request order: the best completed quarter, then the most recent.

    TPE models its good group (at most 25 trials in optuna and hyperopt) and
    the spread of the rest; the best trials keep the first intact and recent
    ones (the running trials of the batch among them) the second.
    """
    if len(trials) <= size:
        return tuple(trials)
    sign = -1.0 if maximize else 1.0
    completed = [i for i, t in enumerate(trials) if t.state is TrialState.COMPLETED]
    best = set(sorted(completed, key=lambda i: (sign * trials[i].value, i))[:size // BEST_SHARE])
    recent = [i for i in range(len(trials) - 1, -1, -1) if i not in best][:size - len(best)]
    return tuple(trials[i] for i in sorted(best.union(recent)))


class Windowed:
    """A backend that sees a window of the history (every trial still counts against repeats)."""

    def __init__(self, backend: Backend, size: int):
        self.backend, self.size = backend, size

    def suggest(self, request: SuggestionRequest) -> Proposal:
        trials = window(request.history, self.size, request.experiment.objective.maximize)
        # the backend avoids the window's points, as it always has: the keys of all are not passed on
        return self.backend.suggest(replace(request, history=trials, taken=None))


def with_plan(backend: Backend, plan: Plan | None) -> Backend:
    return backend if plan is None or plan.window is None else Windowed(backend, plan.window)


def degraded_labels(labels: dict[str, str], plan: Plan | None) -> dict[str, str]:
    """The backend's labels plus the plan's reductions (joined to a backend's own degraded steps)."""
    steps = [s for s in labels.get(DEGRADED_LABEL, "").split(".") if s]
    steps += [s for s in (plan.degraded if plan else ()) if s not in steps]
    return {**labels, DEGRADED_LABEL: ".".join(steps)[:63].strip(".")} if steps else dict(labels)
