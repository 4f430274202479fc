"""Before a local run starts: the backend a cluster would route the algorithm to, the Experiment checked
with `validate`'s rules, and an output folder that holds no earlier run."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from katib_validators.catalog import backends_serving
from katib_validators.problems import Problem

RESULTS = ("trials.csv", "trials", "convergence.png")  # what a run writes into its folder


@dataclass(frozen=True)
class Checked:
    """What `validate` says about the Experiment, for the backend that will serve it."""

    errors: list[Problem]
    warnings: list[Problem]
    hints: list[str] = field(default_factory=list)  # another backend would accept it: how to get there


def route(doc: Mapping[str, Any], wanted: str | None, address: str | None) -> tuple[str | None, str]:
    """(the backend that serves the algorithm here, the line that says so).

    Without --backend, the one `katib-suggest katib-config` routes the name to on a cluster (upstream's
    for upstream's names: tpe and random go to hyperopt), so a run here gives what the cluster gives.
    With --address the server there decides; None: validate against any backend that serves the name.
    """
    from katib_suggestion import registry
    from katib_suggestion.deploy.routes import preferred

    name = (doc["spec"].get("algorithm") or {}).get("algorithmName")
    if address:
        return wanted, f"{name} is served by the server at {address}"
    owners = backends_serving(name) if isinstance(name, str) else []
    if wanted or not owners:
        return wanted, f"{name} is served by the {wanted} backend (--backend)" if wanted and owners else ""
    routed = preferred(name)
    others = [b for b in owners if b != routed]
    if len(owners) == 1:
        return routed, f"{name} is served by the {routed} backend"
    installed = [b for b in [routed, *others] if not registry.missing_libraries(b)]
    if installed and installed[0] != routed:
        install = registry.install_hint(registry.declared(routed))
        return installed[0], (f"warning: {name} is served by the {installed[0]} backend here, but a cluster with "
                              f"katib-suggest's katib-config routes it to {routed}, which is not installed "
                              f"({install}): results may differ from the cluster's")
    return routed, (f"{name} is served by the {routed} backend, as katib-suggest katib-config routes it on a "
                    f"cluster (--backend {others[0]} for {others[0]}'s)")


def check(doc: Mapping[str, Any], backend: str | None) -> Checked:
    """`validate`'s errors and warnings for ``doc``, plus where another backend accepts what this one refuses."""
    from katib_suggestion.commands.validate import check_document

    errors, warnings = check_document(doc, backend) or ([], [])
    name = (doc["spec"].get("algorithm") or {}).get("algorithmName")
    hints = []
    if errors and backend and isinstance(name, str):
        for other in backends_serving(name):
            if other != backend and not (check_document(doc, other) or ([], []))[0]:
                prefixed = f"{other}-{name}" if f"{other}-{name}" in _names(other) else None
                where = f"write algorithmName {prefixed} (so a cluster routes it there too), or " if prefixed else ""
                hints.append(f"{other}'s {name} accepts this Experiment: {where}give --backend {other}")
    return Checked(errors, warnings, hints)


def _names(backend: str) -> set[str]:
    from katib_validators.catalog import served_by

    return set(served_by(backend))


class EarlierRun(Exception):
    """The output folder holds an earlier run's results; the message says how to proceed."""


def clean_output(out: Path, force: bool) -> None:
    """Refuse a folder with an earlier run's results unless ``force``, which removes those (and only those)."""
    found = [name for name in RESULTS if (out / name).exists()]
    if not found:
        return
    if not force:
        raise EarlierRun(f"{out} holds an earlier run's results ({', '.join(found)}); give --force to replace "
                         "them, or --out another folder to keep them")
    for name in found:
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
