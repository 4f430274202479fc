"""Test functions with known optima; each takes Katib's string assignments and returns a loss."""

from __future__ import annotations

import math
from collections.abc import Mapping

Values = Mapping[str, str]

_HARTMANN_ALPHA = (1.0, 1.2, 3.0, 3.2)
_HARTMANN_A = ((10, 3, 17, 3.5, 1.7, 8), (0.05, 10, 17, 0.1, 8, 14),
               (3, 3.5, 1.7, 10, 17, 8), (17, 8, 0.05, 10, 0.1, 14))
_HARTMANN_P = ((0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886), (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
               (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650), (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381))


def branin(v: Values) -> float:
    """Branin-Hoo on [-5, 10] x [0, 15]; minimum 0.397887 at three points."""
    x1, x2 = float(v["x1"]), float(v["x2"])
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(v: Values) -> float:
    """Hartmann-6 on [0, 1]^6; minimum -3.32237."""
    x = [float(v[f"x{i}"]) for i in range(1, 7)]
    return -sum(alpha * math.exp(-sum(a * (xi - p) ** 2 for a, xi, p in zip(row, x, prow, strict=True)))
                for alpha, row, prow in zip(_HARTMANN_ALPHA, _HARTMANN_A, _HARTMANN_P, strict=True))


def rosenbrock(v: Values) -> float:
    """log10(1 + Rosenbrock) on [-2, 2]^4; minimum 0 at (1, 1, 1, 1).

    The log keeps the last decades of progress visible: raw Rosenbrock values
    of random points are in the thousands, so linear regret would be ~0 for all.
    """
    x = [float(v[f"x{i}"]) for i in range(1, 5)]
    raw = sum(100 * (b - a * a) ** 2 + (1 - a) ** 2 for a, b in zip(x, x[1:], strict=False))
    return math.log10(1 + raw)


# Best learning rate per optimiser at batch 64; it scales with sqrt(batch) (the square-root scaling rule).
_BEST_LR = {"adam": 1e-3, "rmsprop": 3e-4, "sgd": 5e-2, "adagrad": 1e-2}
_OPTIMIZER_PENALTY = {"adam": 0.0, "rmsprop": 0.02, "sgd": 0.04, "adagrad": 0.1}


def training_run(v: Values) -> float:
    """A validation loss shaped like a real network's: interactions, a log-scale lr, ints, lists.

    Minimum 0.1 at adam, lr 1e-3, batch 64, 5 layers, dropout 0.25.
    """
    optimizer, batch, layers = v["optimizer"], int(v["batch"]), int(v["layers"])
    best_lr = _BEST_LR[optimizer] * math.sqrt(batch / 64)
    return (0.1 + 0.3 * (math.log10(float(v["lr"])) - math.log10(best_lr)) ** 2
            + 0.02 * (layers - 5) ** 2 + 1.5 * (float(v["dropout"]) - 0.05 * layers) ** 2
            + 0.01 * (math.log2(batch) - 6) ** 2 + _OPTIMIZER_PENALTY[optimizer])


def boosting_run(v: Values) -> float:
    """A gradient-boosting-like loss: trees x learning rate trade off, depth and subsample matter.

    Minimum 0.2 where trees * learning_rate = 20, depth 6, subsample 0.8, criterion 'squared'.
    """
    trees, rate = int(v["trees"]), float(v["learning_rate"])
    return (0.2 + 0.15 * math.log10(trees * rate / 20) ** 2 + 0.004 * (int(v["depth"]) - 6) ** 2
            + 2 * (float(v["subsample"]) - 0.8) ** 2 + {"squared": 0.0, "huber": 0.01, "absolute": 0.05}[v["loss"]])


_DIGITS: list = []  # (features, labels), loaded once per process


def svm_digits(v: Values) -> float:
    """3-fold cross-validated error of an SVM on the first 600 of scikit-learn's bundled digits (8x8 images)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    if not _DIGITS:
        features, labels = load_digits(return_X_y=True)
        _DIGITS.append((features[:600] / 16.0, labels[:600]))  # a subset keeps one fit ~50 ms
    features, labels = _DIGITS[0]
    # no shuffling: the folds, and so the loss surface, are the same in every process
    model = SVC(C=float(v["C"]), gamma=float(v["gamma"]), kernel=v["kernel"])
    return 1.0 - float(cross_val_score(model, features, labels, cv=3).mean())
