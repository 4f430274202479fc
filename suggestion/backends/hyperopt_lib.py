"""Import hyperopt without its ATPE module, which we never use and which costs ~50 MiB."""

from __future__ import annotations

import importlib
import sys
import types

_ATPE = "hyperopt.atpe"


class _DeferredModule(types.ModuleType):
    """Stands in for a module until one of its public names is looked up.

    hyperopt's ``__init__`` imports ``atpe`` eagerly, and atpe imports
    scipy.stats: about 500 ms and 50 MiB of resident memory that tpe, rand
    and anneal never touch. Katib's default suggestion memory limit is
    100Mi, so we keep it out. Anything that does reach for ``hyperopt.atpe``
    still gets the real module, imported at that moment.
    """

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            # tools that scan sys.modules (inspect, pytest) must not trigger the import
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def _load():
    placed = "hyperopt" not in sys.modules and _ATPE not in sys.modules
    if placed:
        sys.modules[_ATPE] = _DeferredModule(_ATPE)
    try:
        import hyperopt
    except ImportError:
        if placed:  # leave no stand-in behind for a library that is not there
            del sys.modules[_ATPE]
        raise
    return hyperopt


hyperopt = _load()

# the algorithms we serve, and the pieces needed to drive them by hand
from hyperopt import JOB_STATE_DONE, STATUS_OK, Domain, Trials, anneal, hp, rand, tpe  # noqa: E402

__all__ = ["JOB_STATE_DONE", "STATUS_OK", "Domain", "Trials", "anneal", "hp", "hyperopt", "rand", "tpe"]
