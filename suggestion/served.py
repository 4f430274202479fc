"""What ``serve --backend`` accepts: every suggestion backend in the catalog, and the early-stopping service."""

from __future__ import annotations

import importlib
import importlib.util

from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.stopping.declaration import EARLY_STOPPING
from katib_validators.catalog import BACKENDS

SERVED = (*BACKENDS, EARLY_STOPPING.name)


def default_port(name: str) -> int:
    """The port Katib dials for the service: 6788 for early stopping, 6789 for suggestions."""
    return EARLY_STOPPING.port if name == EARLY_STOPPING.name else 6789


def check_loads(name: str) -> None:
    """Import what serving ``name`` needs (the image build's last step); BackendUnavailable names the gap."""
    if name != EARLY_STOPPING.name:
        from katib_suggestion.registry import load_backend

        load_backend(name)
        return
    for module in EARLY_STOPPING.imports:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise _not_installed(module, str(error)) from error


def check_ready(name: str) -> None:
    """What ``serve`` checks before it reports SERVING: a suggestion backend is imported (check_loads);
    the early-stopping service's packages are found without importing them (the kubernetes client
    loads OpenSSL, kept out of the serve path until a trial is marked)."""
    if name != EARLY_STOPPING.name:
        check_loads(name)
        return
    for package in dict.fromkeys(module.partition(".")[0] for module in EARLY_STOPPING.imports):
        if importlib.util.find_spec(package) is None:
            raise _not_installed(package, "not installed")


def _not_installed(module: str, why: str) -> BackendUnavailable:
    return BackendUnavailable(f"the early-stopping service cannot load {module} ({why}); install it "
                              f"with: pip install 'katib-suggest[{EARLY_STOPPING.extra}]'")
