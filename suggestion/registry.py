"""Backend name -> the module that implements it, imported only when a server asks for it."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading

from katib_suggestion.backend import Backend
from katib_suggestion.errors import BackendUnavailable
from katib_validators.catalog import BACKENDS

# Each module defines BACKEND (an object with the Backend interface); the
# optional extra of the same name installs its libraries.
_MODULES = {name: f"katib_suggestion.backends.{name}_backend" for name in BACKENDS}
# Libraries each backend needs, checked at start-up without importing them: the
# imports take 0.5 to 1.5 s, which a server spends after it reports SERVING.
_LIBRARIES = {"optuna": ("optuna", "cmaes", "scipy"), "hyperopt": ("hyperopt", "scipy"),
              "skopt": ("skopt", "sklearn", "scipy")}
log = logging.getLogger(__name__)


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


class DeferredBackend:
    """A backend imported on a background thread once the server is up.

    A call that arrives before the import has finished waits for it on Python's
    import lock, so it is answered exactly as by an eagerly loaded backend.
    """

    def __init__(self, name: str):
        if name not in _MODULES:
            raise BackendUnavailable(f"unknown backend {name!r}; choose one of {', '.join(_MODULES)}")
        missing = [lib for lib in _LIBRARIES.get(name, ()) if importlib.util.find_spec(lib) is None]
        if missing:
            raise BackendUnavailable(f"the {name} backend needs {', '.join(missing)}; install it with: "
                                     f"pip install 'katib-suggest[{name}]'")
        self.name = name

    def warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self._load_logged, name=f"import-{self.name}", daemon=True)
        thread.start()
        return thread

    def _load_logged(self) -> None:
        try:
            load_backend(self.name)
        except BackendUnavailable:
            log.exception("the %s backend failed to import; every call will report it", self.name)

    def suggest(self, request):
        return load_backend(self.name).suggest(request)
