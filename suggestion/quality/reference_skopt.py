"""scikit-optimize used directly: one Optimizer for the whole run, the same estimator and settings.

Finished trials are told in one ``tell`` per call (failed ones are left out:
skopt has no notion of failure); a free slot gets ``ask()``, several get
``ask(n_points=k)`` with skopt's default batch strategy (``cl_min``). Points
still running from an earlier batch are unknown to the Optimizer, exactly as
when skopt is used directly with a worker pool.
"""

from __future__ import annotations

import warnings

from katib_suggestion.model import Experiment, Kind, Parameter, Point
from skopt import Optimizer
from skopt.space import Categorical, Dimension, Integer, Real

# skopt warns when it proposes a point it has already seen; that is part of the reference
warnings.filterwarnings("ignore", category=UserWarning, module=r"skopt\.")


def describe(algorithm: str, settings: dict) -> str:
    import skopt

    estimator = settings.get("base_estimator", "GP")
    return (f"scikit-optimize {skopt.__version__}: one Optimizer(base_estimator={estimator}, n_initial_points, "
            "acq_func, acq_optimizer, random_state), tell finished, ask(n_points=k) (cl_min)")


def dimension(p: Parameter) -> Dimension:
    """The dimension a user would write: lists as Categorical, numbers with their prior."""
    if p.choices:
        return Categorical(list(p.choices), name=p.name)
    prior = "log-uniform" if p.is_log else "uniform"
    if p.kind is Kind.INT:
        return Integer(int(p.low), int(p.high), prior=prior, name=p.name)
    return Real(p.low, p.high, prior=prior, name=p.name)


def _estimator(settings: dict, dimensions: list[Dimension], seed: int):
    if settings["base_estimator"] != "GBRT":
        return settings["base_estimator"]
    # skopt's own GBRT cannot run on scikit-learn >= 1.6 / numpy >= 2.4 (stack-facts.md): the same
    # repair our backend uses stands in, so the reference measures the algorithm, not the breakage
    from katib_suggestion.backends.skopt_models import tree_model

    return tree_model("GBRT", dimensions, seed)


class SkoptArm:
    def __init__(self, experiment: Experiment, seed: int):
        settings = experiment.settings
        self.space = experiment.space
        dimensions = [dimension(p) for p in self.space]
        self.optimizer = Optimizer(dimensions, base_estimator=_estimator(settings, dimensions, seed),
                                   n_initial_points=settings["n_initial_points"], acq_func=settings["acq_func"],
                                   acq_optimizer=settings["acq_optimizer"], random_state=seed)
        self.asked: list[list] = []

    def ask(self, count: int) -> list[Point]:
        xs = [self.optimizer.ask()] if count == 1 else self.optimizer.ask(n_points=count)
        self.asked += xs
        return [{p.name: _value(p, v) for p, v in zip(self.space, x, strict=True)} for x in xs]

    def tell(self, results: list[tuple[int, float | None]]) -> None:
        done = [(self.asked[index], value) for index, value in results if value is not None]
        if done:
            self.optimizer.tell([x for x, _ in done], [y for _, y in done])


def _value(p: Parameter, raw) -> object:
    return str(raw) if p.choices else p.snap(raw)


def make_arm(experiment: Experiment, seed: int) -> SkoptArm:
    return SkoptArm(experiment, seed)
