"""Declarations of katib-suggest's own backends, registered as entry points like any plugin (setup.cfg)."""

from __future__ import annotations

from katib_suggestion.plugin import INTERFACE_VERSION, BackendPlugin
from katib_validators.hyperopt_algorithms import HYPEROPT_ALGORITHMS
from katib_validators.optuna_algorithms import OPTUNA_ALGORITHMS
from katib_validators.skopt_algorithms import SKOPT_ALGORITHMS


def _builtin(name: str, algorithms, requires: tuple[str, ...], resources) -> BackendPlugin:
    # Each module defines BACKEND, each reference_NAME module make_arm; the extra NAME installs the libraries.
    return BackendPlugin(name, algorithms, f"katib_suggestion.backends.{name}_backend:BACKEND", INTERFACE_VERSION,
                         requires=requires, install=f"pip install 'katib-suggest[{name}]'", resources=resources,
                         reference=f"katib_suggestion.quality.reference_{name}:make_arm")


def _resources(cpu: str, request: str, limit: str) -> dict[str, dict[str, str]]:
    return {"requests": {"cpu": cpu, "memory": request, "ephemeral-storage": "64Mi"},
            "limits": {"cpu": "1", "memory": limit, "ephemeral-storage": "256Mi"}}


# Libraries are checked at start-up without importing them: the imports take 0.5
# to 1.5 s, which a server spends after it reports SERVING.
# Resources (the katib-config entries): requests near the idle RSS (benchmarks/server_memory.py);
# limits with 10% headroom above the peak of the largest call Validate accepts, measured in the
# image as Katib starts it (python -m katib_suggestion.image_check; manifests/README.md): optuna
# 115 MiB and hyperopt 154 MiB at 10,000 trials and 5,000 TPE candidates left 128Mi and 160Mi
# without room for another node's allocator or page cache.
OPTUNA = _builtin("optuna", OPTUNA_ALGORITHMS, ("optuna", "cmaes"), _resources("50m", "64Mi", "160Mi"))
HYPEROPT = _builtin("hyperopt", HYPEROPT_ALGORITHMS, ("hyperopt", "scipy"), _resources("50m", "96Mi", "192Mi"))
SKOPT = _builtin("skopt", SKOPT_ALGORITHMS, ("skopt", "sklearn", "scipy"), _resources("100m", "160Mi", "256Mi"))
