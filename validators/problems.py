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

    @property
    def has_value(self) -> bool:
        return self.value is not _NOT_GIVEN

    def __str__(self) -> str:
        if self.value is _NOT_GIVEN:
            return f"{self.path}: {self.message}"
        return f"{self.path}: {self.message} (got {self.value!r})"


# gRPC carries the status message in a trailer; past the client's 8 KiB metadata limit
# the caller sees RESOURCE_EXHAUSTED instead, which Katib counts as "valid".
STATUS_MESSAGE_LIMIT = 4000


def render(problems: list[Problem], limit: int | None = STATUS_MESSAGE_LIMIT) -> str:
    """The problems as one message, one per line; past ``limit`` characters the rest are
    counted rather than listed (``limit`` None lists them all, e.g. for a terminal)."""
    count = len(problems)
    lines = [f"{count} problem{'s' if count != 1 else ''} in the experiment:"]
    size = len(lines[0])
    for shown, problem in enumerate(problems):
        line = f"- {problem}"
        if limit is not None and size + len(line) + 60 > limit:
            lines.append(f"- ... and {count - shown} more; fix these first, or run katib-suggest validate "
                         "on the Experiment YAML to see every problem")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


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
