"""Backend name -> the object that implements it, imported only when a server asks for it.

Names come from the catalog (entry points: ours and plugins alike); each
declaration's ``backend`` string says where its ``suggest`` lives.
"""

from __future__ import annotations

import importlib
import importlib.util

from katib_suggestion.backend import Backend
from katib_suggestion.errors import BackendUnavailable
from katib_validators.catalog import Registered, registered


def declared(name: str) -> Registered:
    """The declaration of backend ``name``; BackendUnavailable lists the installed ones otherwise."""
    backends = registered()
    if name not in backends:
        raise BackendUnavailable(f"unknown backend {name!r}; choose one of {', '.join(backends)}")
    return backends[name]


def install_hint(entry: Registered) -> str:
    return entry.plugin.install or f"pip install --force-reinstall {entry.project}"


def missing_libraries(name: str) -> list[str]:
    """The import names backend ``name`` requires that are not installed (found without importing them)."""
    return [lib for lib in declared(name).plugin.requires if importlib.util.find_spec(lib) is None]


def load_backend(name: str) -> Backend:
    """Import a backend; BackendUnavailable names what to install when it cannot load."""
    entry = declared(name)
    module_name, _, attribute = entry.plugin.backend.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        if _names_the_module(error, module_name):  # the declaration is wrong, not the installation
            raise BackendUnavailable(
                f"the {name} backend of {entry.distribution} declares its implementation as {entry.plugin.backend!r}, "
                f"but there is no module {error.name}: the plugin's declaration is wrong; fix its backend string "
                "(or report it to the plugin's authors)") from error
        raise BackendUnavailable(
            f"the {name} backend cannot load ({error}); install it with: {install_hint(entry)}") from error
    except Exception as error:  # a plugin's module failing at import: name it rather than crash the caller
        raise BackendUnavailable(f"the {name} backend of {entry.distribution} fails at import "
                                 f"({type(error).__name__}: {error})") from error
    backend = getattr(module, attribute, None)
    if not callable(getattr(backend, "suggest", None)):
        raise BackendUnavailable(f"the {name} backend of {entry.distribution} declares {entry.plugin.backend}, "
                                 "which is not an object with a suggest(request) method")
    return backend


def _names_the_module(error: ImportError, module_name: str) -> bool:
    """Whether the import failed because ``module_name`` itself (or a package on its path) does not exist."""
    missing = getattr(error, "name", None)
    return bool(missing) and (module_name == missing or module_name.startswith(f"{missing}."))


class DeferredBackend:
    """A backend whose libraries are checked when the server is made and that is imported on first use.

    ``serve`` imports it before reporting SERVING (served.check_ready); a call that arrives while
    another thread imports it waits on Python's import lock, so it is answered exactly as by an
    eagerly loaded backend.
    """

    def __init__(self, name: str):
        missing = missing_libraries(name)
        if missing:
            raise BackendUnavailable(f"the {name} backend needs {', '.join(missing)}; install it with: "
                                     f"{install_hint(declared(name))}")
        self.name = name

    def suggest(self, request):
        return load_backend(self.name).suggest(request)
