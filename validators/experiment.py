"""Check a whole Experiment (Kubernetes form) and build the typed model from it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from katib_suggestion.model import Experiment
from katib_validators.counts import check_counts, check_name, count
from katib_validators.objective import parse_objective
from katib_validators.problems import Problem, guarded
from katib_validators.resolve import candidates, check_algorithm, raw_settings
from katib_validators.search_space import PARAMETERS_PATH, parse_search_space
from katib_validators.space_rules import fits_the_experiment
from katib_validators.upstream import keep_upstream_message

log = logging.getLogger(__name__)


def parse_experiment(doc: Any, backend: str | None) -> tuple[Experiment | None, list[Problem]]:
    """The typed Experiment when ``doc`` is valid for ``backend``; otherwise every problem.

    ``doc`` is the resource users apply (``metadata.name`` and ``spec``). With
    ``backend`` None the experiment is valid when any backend serving its
    algorithm accepts it. Never raises: an unexpected failure inside a check
    becomes a problem, because an exception here would let a bad experiment through.
    """
    try:
        return _parse(doc, backend)
    except Exception as error:  # noqa: BLE001 - see docstring
        log.exception("validator failed on unexpected input")
        return None, [Problem("spec", f"the experiment could not be checked ({type(error).__name__}: "
                                      f"{error}); correct the fields around it")]


def _parse(doc: Any, backend: str | None) -> tuple[Experiment | None, list[Problem]]:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("spec"), Mapping):
        return None, [Problem("spec", "an Experiment needs a spec mapping")]
    spec = doc["spec"]
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), Mapping) else {}
    name = metadata.get("name")
    problems = guarded("metadata.name", lambda: check_name(name))
    count_problems = guarded("spec", lambda: check_counts(spec))
    problems += count_problems
    objective, found = _guarded_parse("spec.objective", lambda: parse_objective(spec.get("objective")))
    problems += found
    space, found = _guarded_parse(PARAMETERS_PATH, lambda: parse_search_space(spec.get("parameters")))
    problems += found
    pairs, found = _guarded_parse("spec.algorithm", lambda: raw_settings(spec.get("algorithm")))
    problems += found
    algorithms, found = _guarded_parse("spec.algorithm", lambda: candidates(spec.get("algorithm"), backend))
    if _upstream_only(spec.get("algorithm")):
        return None, found  # hyperband, enas, ...: their own image judges the rest (NAS has no parameters)
    problems += found
    chosen, settings, found = _first_accepting(algorithms or [], pairs or [], space, spec)
    problems += found
    if space is not None and not count_problems:
        problems += guarded("spec.maxTrialCount", lambda: fits_the_experiment(space, spec))
    if problems or chosen is None:
        return None, problems
    return Experiment(
        name=name, algorithm=chosen.key, space=space, objective=objective, settings=settings,
        max_trial_count=count(spec.get("maxTrialCount")),
        parallel_trial_count=count(spec.get("parallelTrialCount")),
    ), []


def _first_accepting(algorithms, pairs, space, spec):
    """The first candidate that accepts settings and space; else the fewest problems found.

    Several candidates only arise offline (no backend given): ``tpe`` with
    hyperopt's ``gamma`` is valid because the hyperopt image serves it.
    """
    best = None
    for algorithm in algorithms:
        settings, found = check_algorithm(algorithm, pairs, space, spec)
        if not found:
            return algorithm, settings, []
        if best is None or len(found) < len(best[2]):
            best = (algorithm, settings, found)
    if best is None:
        return None, {}, []
    if len(algorithms) > 1:
        prefixed = " or ".join(f"{a.backend}-{a.key}" for a in algorithms if f"{a.backend}-{a.key}" in a.names)
        choose = f"; to choose one, write {prefixed}" if prefixed else ""
        note = Problem("spec.algorithm.algorithmName", f"served by the {', '.join(a.backend for a in algorithms)} "
                       f"backends; these problems are {best[0].backend}'s (the fewest){choose}", best[0].names[0])
        return best[0], best[1], [*best[2], note]
    return best


def _upstream_only(raw: Any) -> bool:
    name = raw.get("algorithmName") if isinstance(raw, Mapping) else None
    return isinstance(name, str) and keep_upstream_message(name) is not None


def _guarded_parse(path: str, parse):
    """``parse()`` -> (value, problems); an exception becomes a problem at ``path``."""
    result: list = [None]

    def run() -> list[Problem]:
        result[0], found = parse()
        return found

    problems = guarded(path, run)
    return result[0], problems
