"""Which backend serves an algorithmName that several declare, and what makes an installed set unusable.

Katib routes one algorithmName to one image, so a name two backends declare is
ambiguous: `validate` could accept settings that the image Katib reaches
refuses. katib-suggest's own backends share tpe and random on purpose (upstream
sends them to hyperopt); any other shared name is a start-up error unless the
user says which backend serves it, in KATIB_SUGGEST_ROUTES (``sobol=nevergrad``).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping

from katib_validators.upstream import UPSTREAM_BACKENDS

ROUTES_VARIABLE = "KATIB_SUGGEST_ROUTES"


def explicit_routes(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """algorithmName -> backend from KATIB_SUGGEST_ROUTES (``NAME=BACKEND,...``); ValueError names a bad item."""
    routes = {}
    for item in filter(None, (part.strip() for part in environ.get(ROUTES_VARIABLE, "").split(","))):
        name, equals, backend = (word.strip() for word in item.partition("="))
        if not equals or not name or not backend:
            raise ValueError(f"{ROUTES_VARIABLE}: {item!r} is not NAME=BACKEND (e.g. sobol=nevergrad)")
        routes[name] = backend
    return routes


def ordered(name: str, owners: list[str], routes: Mapping[str, str]) -> list[str]:
    """The backends that serve ``name``, the one that serves it on a cluster first: the user's route (then the
    only one), else upstream's backend for upstream's names, else catalog order."""
    if routes.get(name) in owners:
        return [routes[name]]
    upstream = UPSTREAM_BACKENDS.get(name)
    return sorted(owners, key=lambda backend: backend != upstream)


def conflicts(names_by_backend: Mapping[str, tuple[str, ...]], builtin: set[str], where: Mapping[str, str],
              routes: Mapping[str, str]) -> list[str]:
    """A plugin's algorithmName that another backend serves too, unless routed; routes that cannot apply."""
    owners: dict[str, list[str]] = {}
    for backend, names in names_by_backend.items():
        for name in names:
            owners.setdefault(name, []).append(backend)
    problems = []
    for name, backends in owners.items():
        if len(backends) < 2 or set(backends) <= builtin or name in routes:
            continue
        plugin = next(b for b in backends if b not in builtin)
        others = [b for b in backends if b != plugin]
        problems.append(
            f"{where[plugin]} declares the algorithmName {name!r}, which {' and '.join(where[b] for b in others)} "
            f"{'serve' if len(others) > 1 else 'serves'} too: Katib routes a name to one image, so settings one "
            f"accepts could reach the other. Rename it in the plugin (e.g. {plugin}-{name}), or say which serves "
            f"it: {ROUTES_VARIABLE}={name}={plugin} (or {name}={others[0]})")
    for name, backend in routes.items():
        if backend not in owners.get(name, []):
            served = ", ".join(owners.get(name, [])) or "no installed backend"
            problems.append(f"{ROUTES_VARIABLE} routes {name!r} to {backend!r}, but {name} is served by {served}")
    return problems


def missing_implementation(spec: str) -> str | None:
    """Why the module of ``"module:attribute"`` cannot be found (without importing it), or None.

    Finding a submodule imports its parent packages: the plugin's own, which are cheap by contract."""
    module = spec.partition(":")[0]
    try:
        found = importlib.util.find_spec(module)
    except Exception as error:  # noqa: BLE001 - a parent package that fails to import, a bad name
        return f"module {module} cannot be found ({type(error).__name__}: {error})"
    return None if found is not None else f"no module {module} is installed"
