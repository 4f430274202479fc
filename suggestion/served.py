"""What ``serve --backend`` accepts: every suggestion backend in the catalog, and the early-stopping service."""

from __future__ import annotations

import importlib

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
            raise BackendUnavailable(f"the early-stopping service cannot load {module} ({error}); install it "
                                     f"with: pip install 'katib-suggest[{EARLY_STOPPING.extra}]'") from error
