"""What the early-stopping image is, as data: name, extra, port, health names, resources (no imports of grpc)."""

from __future__ import annotations

from dataclasses import dataclass, field

from katib_validators.early_stopping import ALGORITHMS


@dataclass(frozen=True)
class ServiceDeclaration:
    """A service our Dockerfile builds that is not a suggestion backend.

    ``name`` is the Dockerfile's BACKEND build argument and serve's --backend; ``extra`` the
    setup.cfg extra the image installs; the image check starts it as Katib starts the container
    (no arguments, port ``port``) and asks each of ``health_names``; ``imports`` must load in it.
    """

    name: str
    extra: str
    port: int
    health_names: tuple[str, ...]
    imports: tuple[str, ...]
    algorithms: tuple[str, ...]
    resources: dict = field(default_factory=dict)


EARLY_STOPPING = ServiceDeclaration(
    name="early-stopping",
    extra="early-stopping",
    port=6788,  # Katib's DefaultEarlyStoppingPort, container port "earlystop-api"
    # Katib sets no probe on this container; the names follow its suggestion probe (manager.v1beta1.<Service>)
    health_names=("", "manager.v1beta1.EarlyStopping", "api.v1.beta1.EarlyStopping"),
    imports=("katib_suggestion.stopping.server", "katib_suggestion.stopping.trial_status", "kubernetes.client"),
    algorithms=ALGORITHMS,
    # benchmarks/early_stopping_memory.py: peak RSS 80 MiB for every algorithm's rules over 1,000 trials
    # x 27 reports and a SetTrialStatus (the kubernetes client is most of it), 2026-12-06
    resources={"requests": {"cpu": "50m", "memory": "96Mi", "ephemeral-storage": "64Mi"},
               "limits": {"cpu": "500m", "memory": "160Mi", "ephemeral-storage": "256Mi"}},
)
