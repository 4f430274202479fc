"""What an algorithm accepts: names, settings schema, distributions and space rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from katib_suggestion.model import Distribution, SearchSpace
from katib_validators.problems import Problem
from katib_validators.settings import SettingsSchema

# A rule on the whole search space for one algorithm: (space, spec) -> problems.
SpaceRule = Callable[[SearchSpace, Mapping[str, Any]], list[Problem]]

LINEAR = frozenset({Distribution.UNIFORM, Distribution.LOG_UNIFORM})
ALL_DISTRIBUTIONS = frozenset(Distribution)


@dataclass(frozen=True)
class Algorithm:
    """One algorithm of one backend, as a user selects it by ``algorithmName``.

    ``key`` is the name the backend dispatches on; ``names`` are every
    ``algorithmName`` that selects it (upstream's name first, then aliases).
    """

    key: str
    backend: str
    names: tuple[str, ...]
    schema: SettingsSchema
    summary: str
    distributions: frozenset[Distribution] = LINEAR
    space_rules: tuple[SpaceRule, ...] = field(default=())


def names(backend: str, key: str) -> tuple[str, ...]:
    """Upstream's algorithmName, then the unambiguous ``<backend>-<name>`` alias."""
    return (key, f"{backend}-{key}")
