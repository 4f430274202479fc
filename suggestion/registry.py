"""Backend name -> the module that implements it, imported only when a server asks for it."""

from __future__ import annotations

import importlib

from katib_suggestion.backend import Backend
from katib_suggestion.errors import BackendUnavailable
from katib_validators.catalog import BACKENDS

# Each module defines BACKEND (an object with the Backend interface); the
# optional extra of the same name installs its libraries.
_MODULES = {name: f"katib_suggestion.backends.{name}_backend" for name in BACKENDS}


def backend_names() -> tuple[str, ...]:
    return tuple(_MODULES)


def load_backend(name: str) -> Backend:
    """Import a backend; BackendUnavailable names the extra to install when its library is missing."""
    if name not in _MODULES:
        raise BackendUnavailable(f"unknown backend {name!r}; choose one of {', '.join(_MODULES)}")
    try:
        module = importlib.import_module(_MODULES[name])
    except ImportError as error:
        raise BackendUnavailable(
            f"the {name} backend cannot load ({error}); install it with: pip install 'katib-suggest[{name}]'"
        ) from error
    return module.BACKEND
