"""Which algorithm names a katib-config sends to which of our backends."""

from __future__ import annotations

from katib_validators.catalog import BACKENDS, backends_serving, registered, served_by
from katib_validators.upstream import UPSTREAM_BACKENDS, keep_upstream_message  # noqa: F401 - re-exported

UPSTREAM, PREFIXED = "upstream", "prefixed"


class RouteError(ValueError):
    """A selection of algorithm names that cannot be routed; the message says what to write."""


def routes(selection: str) -> dict[str, str]:
    """algorithmName -> backend for ``selection``, a comma-separated list of keywords and names.

    ``upstream``: every name katib-suggest's own backends serve, upstream's included (drop-in);
    ``prefixed``: only their unambiguous ``<backend>-<name>`` names (upstream's entries stay). A
    plugin's names are never added by a keyword: list them (``upstream,nevergrad-de``). A name may be
    written ``NAME=BACKEND`` to choose between backends serving it.
    """
    chosen: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in selection.split(","))):
        if item == UPSTREAM:
            chosen.update({name: preferred(name) for backend in own_backends() for name in served_by(backend)})
        elif item == PREFIXED:
            chosen.update({name: backend for backend in own_backends() for name in served_by(backend)
                           if name.startswith(f"{backend}-")})
        else:
            chosen.update([_named(item)])
    if not chosen:
        raise RouteError("--algorithms: give 'upstream', 'prefixed' or a list such as tpe,optuna-cmaes")
    return chosen


def _named(item: str) -> tuple[str, str]:
    name, _, backend = (word.strip() for word in item.partition("="))
    owners = backends_serving(name)
    if not owners:
        if keep_upstream_message(name):
            raise RouteError(f"--algorithms: {keep_upstream_message(name)}")
        served = ", ".join(sorted({n for b in BACKENDS for n in served_by(b)}))
        raise RouteError(f"--algorithms: katib-suggest does not serve {name!r}; choose from "
                         f"{served}, or use 'upstream' or 'prefixed'")
    if backend and backend not in owners:
        raise RouteError(f"--algorithms: {name} is served by {', '.join(owners)}, not {backend!r}")
    return name, backend or preferred(name)


def own_backends() -> list[str]:
    """katib-suggest's own backends: the only ones 'upstream' and 'prefixed' route (a plugin's names must be listed)."""
    return [name for name, entry in registered().items() if entry.builtin]


def unrouted_plugins(chosen: dict[str, str]) -> list[str]:
    """One line per installed plugin none of whose names ``chosen`` routes, saying how to add them."""
    lines = []
    for backend, entry in registered().items():
        names = list(served_by(backend))
        if not entry.builtin and not set(names) & set(chosen):
            lines.append(f"the {backend} plugin's algorithms ({', '.join(names)}) are not routed: list them to add "
                         f"them, e.g. --algorithms upstream,{names[-1]}")
    return lines


def preferred(name: str) -> str:
    """The backend that serves ``name`` when none is chosen: the user's route (KATIB_SUGGEST_ROUTES), else
    upstream's, else the first in the catalog."""
    return backends_serving(name)[0]
