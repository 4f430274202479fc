"""Declarations of katib-suggest's own backends, registered as entry points like any plugin (setup.cfg)."""

from __future__ import annotations

from katib_suggestion.plugin import INTERFACE_VERSION, BackendPlugin
from katib_validators.hyperopt_algorithms import HYPEROPT_ALGORITHMS
from katib_validators.optuna_algorithms import OPTUNA_ALGORITHMS
from katib_validators.skopt_algorithms import SKOPT_ALGORITHMS


def _builtin(name: str, algorithms, requires: tuple[str, ...]) -> BackendPlugin:
    # Each module defines BACKEND; the extra of the same name installs its libraries.
    return BackendPlugin(name, algorithms, f"katib_suggestion.backends.{name}_backend:BACKEND", INTERFACE_VERSION,
                         requires=requires, install=f"pip install 'katib-suggest[{name}]'")


# Libraries are checked at start-up without importing them: the imports take 0.5
# to 1.5 s, which a server spends after it reports SERVING.
OPTUNA = _builtin("optuna", OPTUNA_ALGORITHMS, ("optuna", "cmaes", "scipy"))
HYPEROPT = _builtin("hyperopt", HYPEROPT_ALGORITHMS, ("hyperopt", "scipy"))
SKOPT = _builtin("skopt", SKOPT_ALGORITHMS, ("skopt", "sklearn", "scipy"))
