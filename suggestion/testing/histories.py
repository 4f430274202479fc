"""Fabricated finished trials for any Experiment message: feasible random values and a random loss."""

from __future__ import annotations

import random

from katib_api import api_pb2 as pb

Condition = pb.TrialStatus.TrialConditionType


def feasible_value(parameter: pb.ParameterSpec, rng: random.Random) -> str:
    """A random value of ``parameter`` as Katib would send it (on the step grid when there is one)."""
    space = parameter.feasible_space
    if space.list:
        return rng.choice(space.list)
    low, high = float(space.min), float(space.max)
    if parameter.parameter_type == pb.INT:
        return str(rng.randint(int(low), int(high)))
    step = float(space.step) if space.step else 0.0
    value = low + rng.random() * (high - low)
    return repr(low + round((value - low) / step) * step if step else value)


def history(message: pb.Experiment, trials: int, seed: int = 0, metric: str = "loss") -> list[pb.Trial]:
    """Finished trials with a value for every parameter and a random objective value."""
    rng = random.Random(seed)
    made = []
    for index in range(trials):
        trial = pb.Trial(name=f"history-{index:06d}")
        for parameter in message.spec.parameter_specs.parameters:
            trial.spec.parameter_assignments.assignments.add(name=parameter.name,
                                                             value=feasible_value(parameter, rng))
        trial.status.condition = Condition.SUCCEEDED
        trial.status.observation.metrics.add(name=metric, value=repr(rng.random()))
        made.append(trial)
    return made
