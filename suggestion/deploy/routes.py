"""Which algorithm names a katib-config sends to which of our backends."""

from __future__ import annotations

from katib_validators.catalog import BACKENDS, backends_serving, served_by
from katib_validators.upstream import UPSTREAM_BACKENDS, keep_upstream_message  # noqa: F401 - re-exported

UPSTREAM, PREFIXED = "upstream", "prefixed"


class RouteError(ValueError):
    """A selection of algorithm names that cannot be routed; the message says what to write."""


def routes(selection: str) -> dict[str, str]:
    """algorithmName -> our backend for ``selection``.

    ``upstream``: every name we serve, upstream's included (drop-in); ``prefixed``: only the
    unambiguous ``<backend>-<name>`` names (upstream's entries stay); otherwise a comma-separated
    list of names, each optionally ``NAME=BACKEND`` to choose between backends serving it.
    """
    if selection == UPSTREAM:
        return {name: preferred(name) for backend in BACKENDS for name in served_by(backend)}
    if selection == PREFIXED:
        return {name: backend for backend in BACKENDS for name in served_by(backend)
                if name.startswith(f"{backend}-")}
    chosen: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in selection.split(","))):
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
        chosen[name] = backend or preferred(name)
    if not chosen:
        raise RouteError("--algorithms: give 'upstream', 'prefixed' or a list such as tpe,optuna-cmaes")
    return chosen


def preferred(name: str) -> str:
    """The backend that serves ``name`` when none is chosen: the user's route (KATIB_SUGGEST_ROUTES), else
    upstream's, else the first in the catalog."""
    return backends_serving(name)[0]
