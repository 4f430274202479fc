"""Every algorithm of every backend, by the names users write in algorithmName."""

from __future__ import annotations

from katib_validators.algorithm import Algorithm
from katib_validators.hyperopt_algorithms import HYPEROPT_ALGORITHMS
from katib_validators.optuna_algorithms import OPTUNA_ALGORITHMS
from katib_validators.skopt_algorithms import SKOPT_ALGORITHMS

# Backends register here; each tuple is declared once, next to its schemas.
ALGORITHMS: tuple[Algorithm, ...] = (*OPTUNA_ALGORITHMS, *HYPEROPT_ALGORITHMS, *SKOPT_ALGORITHMS)

BACKENDS: tuple[str, ...] = tuple(dict.fromkeys(a.backend for a in ALGORITHMS))


def served_by(backend: str) -> dict[str, Algorithm]:
    """algorithmName -> Algorithm for one backend (aliases included)."""
    return {name: a for a in ALGORITHMS if a.backend == backend for name in a.names}


def backends_serving(name: str) -> list[str]:
    return [a.backend for a in ALGORITHMS if name in a.names]
