"""Learning-curve problems: each configuration's whole curve (a loss per epoch) and its known final value."""

from __future__ import annotations

import functools
import hashlib
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from katib_suggestion.quality import functions
from katib_suggestion.quality.problems import _double, _listed, random_point

Values = Mapping[str, str]


@dataclass(frozen=True)
class CurveProblem:
    """A minimisation problem whose trials report the loss after every epoch.

    ``final`` is the value a trial ends with when it runs all ``epochs`` (the last point of its curve);
    regret is normalised by ``reference - optimum`` like the quality gate's problems, ``reference``
    being the median final value of random configurations.
    """

    name: str
    parameters: tuple[dict[str, Any], ...]
    curve: Callable[..., tuple[float, ...]]  # (values, epochs=all) -> the first epochs of the curve
    epochs: int
    optimum: float
    reference: float
    budget: int  # trials per run

    def final(self, values: Values) -> float:
        return self.curve(values)[-1]

    def normalised_regret(self, loss: float) -> float:
        return (loss - self.optimum) / (self.reference - self.optimum)


SYNTHETIC_EPOCHS = 27  # 1, 3, 9, 27: three successive-halving rungs below the end with reduction factor 3


def _noise(values: Values, epoch: int) -> float:
    """A standard normal draw fixed by the configuration and the epoch (the same in every process)."""
    key = repr(sorted(values.items())) + f"/{epoch}"
    return random.Random(hashlib.sha256(key.encode()).digest()).gauss(0.0, 1.0)


def synthetic_curve(values: Values, epochs: int = SYNTHETIC_EPOCHS) -> tuple[float, ...]:
    """Branin's value plus a learning-rate penalty, reached exactly at the last epoch.

    The learning rate also sets how fast a run converges: a high one drops early and stalls at a
    worse value, a low one looks poor for many epochs and ends best (curves cross, as real ones do).
    Noise shrinks with the remaining gap, so the final value is known exactly.
    """
    log_lr = math.log10(float(values["lr"]))
    final = functions.branin(values) + 3.0 * (log_lr + 1.5) ** 2
    shape = 1.0 + (log_lr + 3.0)  # 1 (slow) .. 4 (fast)
    gap = 60.0
    curve = []
    for epoch in range(1, epochs + 1):
        left = ((SYNTHETIC_EPOCHS - epoch) / SYNTHETIC_EPOCHS) ** shape
        curve.append(final + gap * left * (1.0 + 0.15 * _noise(values, epoch)))
    return tuple(curve)


SGD_EPOCHS = 27
_SPLIT: list = []  # (train X, train y, validation X, validation y), made once per process


def _digits():
    if not _SPLIT:
        from sklearn.datasets import load_digits

        features, labels = load_digits(return_X_y=True)
        features = features / 16.0
        # a fixed split, the same in every process: 500 images train, the next 500 validate (small enough
        # that a benchmark run of 40 trials x 27 epochs takes seconds, not minutes)
        _SPLIT.append((features[:500], labels[:500], features[500:1000], labels[500:1000]))
    return _SPLIT[0]


class _Training:
    """One configuration's SGD run, advanced an epoch at a time only as far as someone asks."""

    def __init__(self, values: Values):
        import numpy as np
        from sklearn.linear_model import SGDClassifier

        self._model = SGDClassifier(loss=values["loss"], alpha=float(values["alpha"]), eta0=float(values["eta0"]),
                                    learning_rate=values["schedule"], random_state=0)
        self._order = np.random.default_rng(0)
        self._classes = np.arange(10)
        self.curve: list[float] = []

    def upto(self, epochs: int) -> tuple[float, ...]:
        train_x, train_y, valid_x, valid_y = _digits()
        while len(self.curve) < epochs:
            shuffled = self._order.permutation(len(train_y))
            self._model.partial_fit(train_x[shuffled], train_y[shuffled], classes=self._classes)
            self.curve.append(float(1.0 - self._model.score(valid_x, valid_y)))
        return tuple(self.curve[:epochs])


@functools.lru_cache(maxsize=8192)  # ~10 KiB each
def _training(key: tuple[tuple[str, str], ...]) -> _Training:
    return _Training(dict(key))


def sgd_digits_curve(values: Values, epochs: int = SGD_EPOCHS) -> tuple[float, ...]:
    """Validation error of scikit-learn's SGDClassifier on the bundled digits after each epoch (partial_fit);
    only the first ``epochs`` are trained (a stopped trial costs what it ran here too)."""
    return _training(tuple(sorted((k, values[k]) for k in ("loss", "alpha", "eta0", "schedule")))).upto(epochs)


# The best final error known: the best of 300 random configurations (estimate(.., 300), 2026-12-06)
SGD_BEST_KNOWN = 0.098
CURVE_PROBLEMS: dict[str, CurveProblem] = {p.name: p for p in (
    CurveProblem("curves-branin", (_double("x1", -5.0, 10.0), _double("x2", 0.0, 15.0),
                                   _double("lr", 1e-3, 1.0, log=True)),
                 # optimum: Branin's minimum with the best learning rate (10^-1.5, no penalty);
                 # reference: estimate(.., 2000) = the median final value of random configurations
                 synthetic_curve, SYNTHETIC_EPOCHS, optimum=0.397887, reference=40.5945, budget=40),
    CurveProblem("sgd-digits", (
        _double("alpha", 1e-6, 1e-1, log=True), _double("eta0", 1e-4, 1.0, log=True),
        _listed("loss", "categorical", ["hinge", "log_loss", "modified_huber"]),
        _listed("schedule", "categorical", ["constant", "invscaling", "adaptive"])),
        # reference: estimate(.., 300)
        sgd_digits_curve, SGD_EPOCHS, optimum=SGD_BEST_KNOWN, reference=0.187, budget=40),
)}


def estimate(problem: CurveProblem, points: int, seed: int = 0) -> tuple[float, float]:
    """(median, minimum) final value of random configurations: how ``reference`` (and a bound on
    ``optimum``) were produced."""
    import statistics

    rng = random.Random(seed)
    finals = [problem.final(random_point(problem.parameters, rng)) for _ in range(points)]
    return statistics.median(finals), min(finals)
