"""Import hyperopt without the ~25 MiB of libraries its tpe, rand and anneal never use (Katib gives a pod 100Mi).

Three of hyperopt's imports are replaced while it loads, and only then:

* ``hyperopt.atpe`` (scipy.stats, ~50 MiB) is deferred: anything that reaches
  for it gets the real module at that moment.
* ``networkx`` (~11 MiB, all of it imported eagerly) is only used by
  ``pyll.toposort``, to check a graph for cycles: the standard library's
  graphlib does that.
* ``scipy.special`` (~7 MiB with the array-API layer it pulls in) only lends
  ``erf`` to ``hyperopt.tpe``: the same ufunc comes from the one extension
  module that defines it.

A library already imported is used as it is. tests/test_hyperopt_lib.py pins
what hyperopt uses of each, so an upgrade that needs more fails there.
"""

from __future__ import annotations

import graphlib
import importlib
import importlib.machinery
import importlib.util
import sys
import types
from contextlib import contextmanager
from pathlib import Path

_ATPE = "hyperopt.atpe"
_ERF_MODULE = "scipy.special._special_ufuncs"


class _DeferredModule(types.ModuleType):
    """Stands in for a module until one of its public names is looked up."""

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            # tools that scan sys.modules (inspect, pytest) must not trigger the import
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


class DiGraph:
    """The part of networkx.DiGraph that hyperopt.pyll uses: edges added, nodes as they appear in them."""

    def __init__(self) -> None:
        self.inputs: dict = {}  # node -> the nodes with an edge into it

    def add_edges_from(self, edges) -> None:
        for source, target in edges:
            self.inputs.setdefault(source, [])
            self.inputs.setdefault(target, []).append(source)


def topological_sort(graph: DiGraph):
    """Every node after the nodes with an edge into it; graphlib.CycleError when there is none such order."""
    return graphlib.TopologicalSorter(graph.inputs).static_order()


def _networkx() -> types.ModuleType:
    module = types.ModuleType("networkx", "graphlib standing in for networkx while hyperopt imports")
    module.DiGraph, module.topological_sort = DiGraph, topological_sort
    return module


def _erf_only() -> types.ModuleType:
    """scipy.special as far as hyperopt.tpe needs it: erf, from the extension module that defines it,
    loaded from its file (find_spec on the dotted name would import scipy.special first)."""
    scipy = importlib.util.find_spec("scipy")
    if scipy is None or not scipy.submodule_search_locations:
        raise ImportError("scipy is not installed", name="scipy")
    folder = Path(scipy.submodule_search_locations[0], "special")
    path = next((folder / f"_special_ufuncs{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES
                 if (folder / f"_special_ufuncs{suffix}").exists()), None)
    if path is None:  # another layout: the real module, whatever it costs
        return importlib.import_module("scipy.special")
    spec = importlib.util.spec_from_file_location(_ERF_MODULE, path)
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)  # not registered: a later import of scipy.special loads its own
    module = types.ModuleType("scipy.special", "scipy.special's erf only, while hyperopt imports")
    module.erf = extension.erf
    return module


@contextmanager
def _standing_in(name: str, make):
    """``make()`` as module ``name`` while the block runs, unless the real one is loaded already."""
    placed = name not in sys.modules
    if placed:
        sys.modules[name] = make()
    try:
        yield
    finally:
        if placed and name != _ATPE:  # the deferred atpe stays: it loads the real one when used
            sys.modules.pop(name, None)


def _load():
    if "hyperopt" in sys.modules:
        return sys.modules["hyperopt"]
    try:
        with _standing_in(_ATPE, lambda: _DeferredModule(_ATPE)), _standing_in("networkx", _networkx), \
                _standing_in("scipy.special", _erf_only):
            import hyperopt
    except ImportError:
        if isinstance(sys.modules.get(_ATPE), _DeferredModule):  # no stand-in left behind for a missing library
            del sys.modules[_ATPE]
        raise
    return hyperopt


hyperopt = _load()

# the algorithms we serve, and the pieces needed to drive them by hand
from hyperopt import JOB_STATE_DONE, STATUS_OK, Domain, Trials, anneal, hp, rand, tpe  # noqa: E402

__all__ = ["JOB_STATE_DONE", "STATUS_OK", "Domain", "Trials", "anneal", "hp", "hyperopt", "rand", "tpe"]
