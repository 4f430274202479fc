"""Before a benchmark plans a run: which backends' libraries are installed here, and who serves each algorithm."""

from __future__ import annotations

import argparse

from katib_suggestion import registry
from katib_suggestion.quality.inputs import external, resolve_algorithm
from katib_suggestion.quality.runner import OURS, Task
from katib_validators.catalog import BACKENDS


def _missing(backend: str) -> str:
    libraries = ", ".join(registry.missing_libraries(backend))
    install = registry.install_hint(registry.declared(backend))
    return f"the {backend} backend is not installed here (it needs {libraries}; {install})"


def installed_backends(args: argparse.Namespace) -> tuple[list[str], list[str], tuple[str, ...]]:
    """(problems that refuse the benchmark, notes on backends skipped, the backends to run).

    A backend asked for by name (--backend, or --algorithm's) that cannot load is refused before any run; one
    that only the default "every backend" brings in is skipped with a note. A server under test that is not ours
    needs our library only for its reference arm."""
    if args.algorithm:
        algorithm, _ = resolve_algorithm(args.algorithm, args.backend)
        if algorithm is None or not registry.missing_libraries(algorithm.backend):
            return [], [], ()
        if external(args) and not args.reference:
            return [], [], ()
        fix = " or add --no-reference" if external(args) else ""
        what = "its reference arm" if external(args) else args.algorithm
        return [f"--algorithm {args.algorithm}: {what} needs {_missing(algorithm.backend)}{fix}"], [], ()
    if args.backend:
        refused = [f"--backend {b}: {_missing(b)}" for b in args.backend if registry.missing_libraries(b)]
        return refused, [], tuple(args.backend)
    skipped = [b for b in BACKENDS if registry.missing_libraries(b)]
    return [], [f"{b}: {_missing(b)}" for b in skipped], tuple(b for b in BACKENDS if b not in skipped)


def serving_lines(args: argparse.Namespace, tasks: list[Task]) -> list[str]:
    """Who serves what in this benchmark, printed before the first run."""
    if external(args):
        return [f"{args.algorithm} is served by the server under test ({external(args)})"]
    served: dict[str, list[str]] = {}
    for task in tasks:
        if task.arm == OURS and task.algorithm not in served.setdefault(task.backend, []):
            served[task.backend].append(task.algorithm)
    return [f"the {backend} backend serves {', '.join(keys)}" for backend, keys in served.items()]
