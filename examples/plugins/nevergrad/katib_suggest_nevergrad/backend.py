"""suggest(): replay the request's history into a fresh nevergrad optimizer, then ask it.

Stateless: nothing survives between calls. The best completed (and early-stopped)
trials are told as points nevergrad did not ask for; each pending trial costs one
ask that is thrown away, so the optimizer moves on as if it had handed that point
out; failed trials are left out. Seeded with ``request.seed``, so the same
request gets the same answer in any process.
"""

from __future__ import annotations

import nevergrad as ng
import numpy as np
from katib_suggestion.plugin import Experiment, Kind, Parameter, Point, Proposal, SuggestionRequest, TrialState

ASKS_PER_POINT = 20  # asks allowed per wanted point before giving up on unseen ones (the core fills in)


def dimension(parameter: Parameter) -> ng.p.Parameter:
    if parameter.choices:
        if parameter.kind is Kind.DISCRETE:  # ordered: neighbours are similar
            return ng.p.TransitionChoice(list(parameter.choices))
        return ng.p.Choice(list(parameter.choices))
    scalar = ng.p.Log if parameter.is_log else ng.p.Scalar
    dimension = scalar(lower=parameter.low, upper=parameter.high)
    return dimension.set_integer_casting() if parameter.kind is Kind.INT and parameter.step is None else dimension


def unit_dimension(parameter: Parameter) -> ng.p.Parameter:
    """What the backend searches: numbers as their position in [0, 1] on the parameter's own scale.

    nevergrad computes in doubles: ints beyond 2**53 and ranges wider than the largest double
    (both legal in Katib) break its bounds checks, so the model's exact mapping does the rest."""
    return dimension(parameter) if parameter.choices else ng.p.Scalar(lower=0.0, upper=1.0)


def coordinate(parameter: Parameter, value):
    return value if parameter.choices else parameter.to_unit(value)


def is_fixed(parameter: Parameter) -> bool:
    return parameter.cardinality() == 1 or (parameter.is_numeric and parameter.low == parameter.high)


class NevergradBackend:
    def suggest(self, request: SuggestionRequest) -> Proposal:
        space = request.experiment.space
        free = [p for p in space if not is_fixed(p)]
        fixed = {p.name: p.value_at(0) if p.choices else p.snap(p.low) for p in space if is_fixed(p)}
        if not free:
            return Proposal([dict(fixed)] * request.count)
        parametrization = ng.p.Dict(**{p.name: unit_dimension(p) for p in free})
        parametrization.random_state = np.random.RandomState(request.seed % 2**32)
        de = optimizer(request.experiment, parametrization)
        elite = _elite(request, request.experiment.settings["popsize"])
        sign = -1.0 if request.experiment.objective.maximize else 1.0
        for trial in request.history:
            if trial.name in elite:
                position = {p.name: coordinate(p, trial.params[p.name]) for p in free}
                told = parametrization.spawn_child(new_value=position)
                de.tell(told, sign * trial.value)
            elif trial.state is TrialState.PENDING:
                de.ask()
        taken = {space.key(t.params) for t in request.history}
        points: list[Point] = []
        for _ in range(ASKS_PER_POINT * request.count):
            value = de.ask().value
            point = {p.name: fixed[p.name] if p.name in fixed else from_coordinate(p, value[p.name]) for p in space}
            if space.key(point) not in taken:
                taken.add(space.key(point))
                points.append(point)
                if len(points) == request.count:
                    break
        return Proposal(points)


def optimizer(experiment: Experiment, parametrization: ng.p.Dict):
    """nevergrad's DE configured from the experiment's settings, budget and parallelism."""
    settings = experiment.settings
    config = ng.families.DifferentialEvolution(popsize=settings["popsize"], crossover=settings["crossover"])
    return config(parametrization, budget=experiment.max_trial_count or None,
                  num_workers=max(1, experiment.parallel_trial_count))


def _elite(request: SuggestionRequest, size: int) -> set[str]:
    """Names of the best ``size`` finished trials. DE keeps the best points it is told about, so
    telling only these builds the same population, at a cost that does not grow with the history."""
    sign = -1.0 if request.experiment.objective.maximize else 1.0
    finished = [t for t in request.history
                if t.state in (TrialState.COMPLETED, TrialState.PRUNED) and t.value is not None]
    return {t.name for t in sorted(finished, key=lambda t: sign * t.value)[:size]}


def from_coordinate(parameter: Parameter, value):
    return value if parameter.choices else parameter.from_unit(value)


def katib_value(parameter: Parameter, value):
    return value if parameter.choices else parameter.snap(value)


BACKEND = NevergradBackend()
