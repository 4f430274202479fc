"""Every algorithm of every installed backend, by the names users write in algorithmName.

Backends are found one way: entry points in the group ``katib_suggest.backends``
(katib-suggest's own optuna, hyperopt and skopt first, then plugins by
distribution name). Each entry point names a ``BackendPlugin`` declaration,
which holds data only; reading the catalog never imports an optimisation
library. The catalog is read once per process, on first use; a broken plugin
stops every command then, with a message naming its distribution.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import metadata

from katib_suggestion.plugin import ENTRY_POINT_GROUP, BackendPlugin, PluginError
from katib_validators.algorithm import Algorithm
from katib_validators.plugin_checks import declaration_problems
from katib_validators.routing import conflicts, explicit_routes, missing_implementation, ordered

OWN_DISTRIBUTION = "katib-suggest"
# setuptools writes entry points sorted by name; ours keep the order users knew (an
# algorithmName served by several backends resolves to the first when none is named)
OWN_ORDER = ("optuna", "hyperopt", "skopt")


@dataclass(frozen=True)
class Registered:
    """A backend declaration and the distribution that installed it."""

    plugin: BackendPlugin
    distribution: str  # e.g. "katib-suggest-nevergrad 0.1.0"
    project: str  # the distribution's name alone, for pip commands
    version: str = ""  # the distribution's version: a plugin image's default tag

    @property
    def builtin(self) -> bool:
        return self.project == OWN_DISTRIBUTION


_lock = threading.RLock()
_registered: dict[str, Registered] | None = None
_loading = False


def registered() -> dict[str, Registered]:
    """Backend name -> its declaration, in catalog order; PluginError lists every broken plugin."""
    global _registered, _loading
    with _lock:
        if _registered is None:
            if _loading:
                raise PluginError("a backend declaration imports katib_validators.catalog while the catalog is "
                                  "being read; declarations must hold data only")
            _loading = True
            try:
                _registered = _discover(metadata.entry_points(group=ENTRY_POINT_GROUP))
            finally:
                _loading = False
        return _registered


def _discover(entry_points) -> dict[str, Registered]:
    found: dict[str, Registered] = {}
    errors: list[str] = []
    for entry in sorted(entry_points, key=_order):
        project, distribution = _distribution(entry)
        version = getattr(getattr(entry, "dist", None), "version", "") or ""
        where = f"plugin {entry.name!r} of {distribution} (entry point {entry.value})"
        try:
            declared = entry.load()
        except Exception as error:  # noqa: BLE001 - any failure of third-party code is reported the same way
            errors.append(f"{where} cannot be imported: {type(error).__name__}: {error}; fix it or uninstall it "
                          f"(pip uninstall {project})")
            continue
        problems = declaration_problems(declared, entry.name)
        if not problems:  # a typo here would pass every command and fail only inside a serving server
            problems = [f"declares its {what} as {spec!r}, but {missing}: fix the {field} string of its declaration"
                        for what, field, spec in (("implementation", "backend", declared.backend),
                                                  ("reference arm", "reference", declared.reference))
                        if spec and (missing := missing_implementation(spec))]
        if problems:
            errors.append(f"{where} is invalid:\n" + "\n".join(f"    - {p}" for p in problems))
        elif entry.name in found:
            errors.append(f"backend {entry.name!r} is declared twice, by {found[entry.name].distribution} and by "
                          f"{distribution}; uninstall one of them")
        else:
            found[entry.name] = Registered(declared, distribution, project, version)
    errors += _shared_names(found)
    if errors:
        raise PluginError("cannot start, a backend plugin is broken:\n" + "\n".join(f"  {e}" for e in errors))
    if not found:
        raise PluginError(f"no backend is registered under the entry-point group {ENTRY_POINT_GROUP}: install "
                          "katib-suggest with pip (pip install .), which registers its own backends")
    return found


def _shared_names(found: dict[str, Registered]) -> list[str]:
    """Plugins' algorithmNames another backend serves too (unless routed), and routes that cannot apply."""
    try:
        routes = explicit_routes()
    except ValueError as error:
        return [str(error)]
    names = {backend: tuple(n for a in r.plugin.algorithms for n in a.names) for backend, r in found.items()}
    where = {backend: f"the {backend} backend of {r.distribution}" for backend, r in found.items()}
    return conflicts(names, {b for b, r in found.items() if r.builtin}, where, routes)


def _order(entry) -> tuple:
    project, _ = _distribution(entry)
    if project == OWN_DISTRIBUTION:
        rank = OWN_ORDER.index(entry.name) if entry.name in OWN_ORDER else len(OWN_ORDER)
        return (0, rank, "", entry.name)
    return (1, 0, project, entry.name)


def _distribution(entry) -> tuple[str, str]:
    dist = getattr(entry, "dist", None)
    if dist is None:
        return "unknown", "an unknown distribution"
    return dist.name, f"{dist.name} {dist.version}"


def _algorithms() -> tuple[Algorithm, ...]:
    return tuple(a for r in registered().values() for a in r.plugin.algorithms)


def __getattr__(name: str):
    # ALGORITHMS and BACKENDS are computed on first use, so importing this module stays cheap
    if name == "ALGORITHMS":
        return _algorithms()
    if name == "BACKENDS":
        return tuple(registered())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def served_by(backend: str) -> dict[str, Algorithm]:
    """algorithmName -> Algorithm for one backend (aliases included)."""
    return {name: a for a in _algorithms() if a.backend == backend for name in a.names}


def backends_serving(name: str) -> list[str]:
    """The backends that serve ``name``, the one a cluster routes it to first (see katib_validators.routing)."""
    registered()  # read (and checked) first: the routes were checked with it
    return ordered(name, [a.backend for a in _algorithms() if name in a.names], explicit_routes())
