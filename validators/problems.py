"""The one type every check returns: what is wrong, where, and what to write instead."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

_NOT_GIVEN = object()


@dataclass(frozen=True)
class Problem:
    """One problem with a user's Experiment.

    ``path`` names the field as the user wrote it in YAML (for example
    ``spec.parameters[2].feasibleSpace.min``); ``message`` says what is wrong and
    what to write instead; ``value`` is what the user gave, when there was one.
    """

    path: str
    message: str
    value: object = _NOT_GIVEN

    def __str__(self) -> str:
        if self.value is _NOT_GIVEN:
            return f"{self.path}: {self.message}"
        return f"{self.path}: {self.message} (got {self.value!r})"


def render(problems: list[Problem]) -> str:
    """All problems as one message, one per line, for a gRPC status or a terminal."""
    count = len(problems)
    head = f"{count} problem{'s' if count != 1 else ''} in the experiment:"
    return "\n".join([head, *(f"- {p}" for p in problems)])


def guarded(path: str, check: Callable[[], list[Problem]]) -> list[Problem]:
    """Run one check; an exception inside it becomes a problem at ``path``.

    Katib counts any status but INVALID_ARGUMENT/UNKNOWN as "valid", so a check
    that raises would let the bad experiment through: it must report instead.
    """
    try:
        return list(check())
    except Exception as error:  # noqa: BLE001 - see docstring
        log.exception("check of %s failed on unexpected input", path)
        return [Problem(path, f"could not be checked ({type(error).__name__}: {error}); "
                              "correct this field and the fields around it")]
