"""The experiment's name and trial counts, checked as upstream's webhook means them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from katib_validators.problems import Problem

# Upstream's webhook pattern, anchored at both ends as it means to be.
_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
NAME_LIMIT = 40
INT32_MAX = 2**31 - 1  # the counts are int32 in the CRD and on the wire
COUNT_FIELDS = ("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount")


def check_name(name: Any) -> list[Problem]:
    if not isinstance(name, str) or not name:
        return [Problem("metadata.name", "give the experiment a name, such as my-experiment", name)]
    if len(name) > NAME_LIMIT or not _NAME.fullmatch(name):
        return [Problem("metadata.name", f"use at most {NAME_LIMIT} lowercase letters, digits and '-', "
                                         "starting with a letter and ending with a letter or digit", name)]
    return []


def count(value: Any) -> int:
    """A count as the model keeps it: 0 when not given (proto3's "unset")."""
    return value if is_whole(value) else 0


def is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_counts(spec: Mapping[str, Any]) -> list[Problem]:
    problems = [Problem(f"spec.{field}", f"must be a whole number up to {INT32_MAX}, such as 10", spec.get(field))
                for field in COUNT_FIELDS
                if spec.get(field) is not None and not (is_whole(spec[field]) and spec[field] <= INT32_MAX)]
    if problems:
        return problems
    max_trials, parallel, max_failed = (spec.get(field) for field in COUNT_FIELDS)
    if max_trials is not None and max_trials <= 0:
        problems.append(Problem("spec.maxTrialCount", "must be greater than 0", max_trials))
    if parallel is not None and parallel <= 0:
        problems.append(Problem("spec.parallelTrialCount", "must be greater than 0", parallel))
    if max_failed is not None and max_failed < 0:
        problems.append(Problem("spec.maxFailedTrialCount", "must be 0 or more", max_failed))
    if max_trials is not None and max_trials > 0:
        for field, value in (("parallelTrialCount", parallel), ("maxFailedTrialCount", max_failed)):
            if value is not None and value > max_trials:
                problems.append(Problem(f"spec.{field}", f"must not exceed maxTrialCount ({max_trials}); "
                                        f"set it to at most {max_trials}", value))
    return problems
