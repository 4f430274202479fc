"""The images the check builds and runs, declared as data: a further image is one more entry in IMAGES."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from katib_suggestion.image_check.stopping_workloads import (
    SettingsValidation,
    StoppingRules,
    TrialStatusUpdate,
    UnreachableDBManager,
)
from katib_suggestion.image_check.workloads import Examples, LargestCall, Workload
from katib_suggestion.stopping.declaration import EARLY_STOPPING, ServiceDeclaration

SUGGESTION_PORT = 6789  # the containerPort Katib dials for a suggestion service ("suggestion-api")
# What Katib's probes ask (kubelet gRPC probes on the port), and "" for any health client
SUGGESTION_HEALTH = ("", "manager.v1beta1.Suggestion")
# Katib's readiness probe starts 10 s after the container (initialDelaySeconds): a server that is
# SERVING by then is ready at the first probe.
READY_WITHIN_SECONDS = 10.0


@dataclass(frozen=True)
class ImageTarget:
    """One image: how it is built, which katib-config entry starts it, and what it is put through.

    ``entry`` names a function of the installed package and its arguments; it is called inside the
    built image, so the container gets exactly the entry that image's ``katib-suggest katib-config``
    writes (a plugin's declared resources included), never a copy of it.
    """

    name: str  # the backend; the image is katib_suggestion.images.image_for(name)
    build_args: Mapping[str, str]
    entry: tuple[str, tuple[str, ...]]  # ("module:function", arguments); "{image}" is the image built
    workloads: tuple[Workload, ...]
    port: int = SUGGESTION_PORT
    health: tuple[str, ...] = SUGGESTION_HEALTH
    plugin_source: str | None = None  # a plugin folder whose wheel goes to docker/plugins/ before the build
    # started in a pod beside doubles of Katib's DB manager and the Kubernetes API (image_check.katib_pod)
    in_pod: bool = False


def _suggestion(backend: str, algorithm: str, examples: tuple[str, ...], *largest: LargestCall) -> ImageTarget:
    return ImageTarget(backend, {"BACKEND": backend},
                       ("katib_suggestion.deploy.entries:entry", (algorithm, backend)),
                       (Examples(examples), *largest))


def _service(declaration: ServiceDeclaration, entry_function: str) -> ImageTarget:
    """A service of ours that is no suggestion backend, from its declaration: its Dockerfile build
    argument, its katib-config entry (the first algorithm's; every one names the same image and
    resources), port and health names, started in its pod."""
    health = declaration.health_names
    return ImageTarget(declaration.name, {"BACKEND": declaration.name},
                       (entry_function, (declaration.algorithms[0],)),
                       (SettingsValidation(declaration.algorithms), StoppingRules(13, 8),
                        StoppingRules(1001, 27, "accuracy"), UnreachableDBManager(health), TrialStatusUpdate(health)),
                       port=declaration.port, health=health, in_pod=True)


def _examples(*names: str) -> tuple[str, ...]:
    return tuple(f"examples/{name}.yaml" for name in names)


IMAGES: dict[str, ImageTarget] = {target.name: target for target in (
    _suggestion("optuna", "tpe", _examples("optuna-tpe", "optuna-multivariate-tpe", "optuna-cmaes", "optuna-random",
                                           "optuna-grid", "optuna-sobol"),
                LargestCall("tpe, 5,000 candidates, 10,000 trials", "tpe", {"n_ei_candidates": "5000"}),
                LargestCall("multivariate-tpe, 2,400 candidates, 5,000 trials", "multivariate-tpe",
                            {"n_ei_candidates": "2400"}, trials=5_000)),
    _suggestion("hyperopt", "tpe", _examples("hyperopt-tpe", "hyperopt-anneal", "hyperopt-random"),
                LargestCall("tpe, 5,000 candidates, 10,000 trials", "tpe",
                            {"n_EI_candidates": "5000", "n_startup_jobs": "0"})),
    _suggestion("skopt", "bayesianoptimization", _examples("skopt-bayesianoptimization"),
                LargestCall("GP, 10,000 trials", "bayesianoptimization"),
                LargestCall("RF, 10,000 trials", "bayesianoptimization", {"base_estimator": "RF"})),
    # the example plugin: the wheel of examples/plugins/nevergrad, installed by the same Dockerfile; it
    # declares no image, so its entry is katib-config's with --image nevergrad=<the image built>
    ImageTarget("nevergrad", {"BACKEND": "nevergrad", "PLUGIN": "/plugins/{wheel}"},
                ("katib_suggestion.deploy.entries:entry_for_image", ("de", "nevergrad", "{image}")),
                (Examples(("examples/plugins/nevergrad/experiment.yaml",)),
                 LargestCall("de, 10,000 trials", "de", trials=10_000,
                             experiment_file="examples/plugins/nevergrad/experiment.yaml")),
                plugin_source="examples/plugins/nevergrad"),
    # the EarlyStopping service; 1,001 trials x 27 reports: what its memory limit was sized for
    # (benchmarks/early_stopping_memory.py, noted in the declaration)
    _service(EARLY_STOPPING, "katib_suggestion.deploy.early_stopping:early_stopping_entry"),
)}
