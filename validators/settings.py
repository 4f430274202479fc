"""Algorithm settings declared once as data; parsing and checking both derive from it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from katib_validators.problems import Problem
from katib_validators.spelling import did_you_mean

SETTINGS_PATH = "spec.algorithm.algorithmSettings"


@dataclass(frozen=True)
class Setting:
    """One algorithm setting: its name, type, allowed range and default.

    ``kind`` is "int", "float", "bool" (true or false, any case) or "choice". Bounds are inclusive unless
    ``low_open``/``high_open`` say otherwise. ``aliases`` are other names users
    may write (for example the library's own name for the same knob).
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def describe(self) -> str:
        """Human summary of the accepted values, e.g. ``int >= 0``, ``0 < float < 1``."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        low = None if self.low is None else f"{_number(self.low)} {'<' if self.low_open else '<='}"
        high = None if self.high is None else f"{'<' if self.high_open else '<='} {_number(self.high)}"
        if low and high:
            return f"{low} {self.kind} {high}"
        if low:
            flipped = ">" if self.low_open else ">="
            return f"{self.kind} {flipped} {_number(self.low)}"
        if high:
            return f"{self.kind} {high}"
        return self.kind

    def parse(self, text: str) -> Any:
        """The typed value of ``text``; ValueError with a user-facing reason otherwise."""
        text = str(text).strip()
        if self.kind == "choice":
            for choice in self.choices:
                if text.lower() == choice.lower():
                    return choice
            raise ValueError(f"{self.name} must be {self.describe()}")
        if self.kind == "bool":
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            raise ValueError(f"{self.name} must be {self.describe()}")
        value = _parse_number(text, self.kind)
        if value is None or not self._in_range(value):
            raise ValueError(f"{self.name} must be {self.describe()}")
        return value

    def _in_range(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return True


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _parse_number(text: str, kind: str) -> float | int | None:
    try:
        if kind == "int":
            return int(text)
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# A cross-setting rule: parsed settings -> (setting name, message) pairs.
SettingsCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class SettingsSchema:
    """All settings of one algorithm, plus rules that span several of them."""

    settings: tuple[Setting, ...]
    checks: tuple[SettingsCheck, ...] = field(default=())

    def lookup(self, name: str) -> Setting | None:
        for setting in self.settings:
            if name == setting.name or name in setting.aliases:
                return setting
        return None

    def defaults(self) -> dict[str, Any]:
        return {s.name: s.default for s in self.settings}

    def parse(
        self, raw: Sequence[tuple[str, str]], algorithm: str, path: str = SETTINGS_PATH
    ) -> tuple[dict[str, Any], list[Problem]]:
        """Parse ``(name, value)`` pairs into typed settings with defaults applied."""
        values = self.defaults()
        given: dict[str, int] = {}
        problems: list[Problem] = []
        for index, (name, text) in enumerate(raw):
            setting = self.lookup(name)
            if setting is None:
                known = ", ".join(s.name for s in self.settings) or "none"
                hint = did_you_mean(name, [n for s in self.settings for n in (s.name, *s.aliases)])
                problems.append(Problem(
                    f"{path}[{index}].name",
                    f"unknown setting for algorithm {algorithm}{hint}; known settings: {known}",
                    name,
                ))
                continue
            if setting.name in given:
                problems.append(Problem(
                    f"{path}[{index}].name",
                    f"{setting.name} is already set at {path}[{given[setting.name]}]; keep one",
                    name,
                ))
                continue
            given[setting.name] = index
            try:
                values[setting.name] = setting.parse(text)
            except ValueError as error:
                problems.append(Problem(f"{path}[{index}].value", str(error), text))
        if not problems:
            for check in self.checks:
                for name, message in check(values):
                    where = f"{path}[{given[name]}]" if name in given else path
                    problems.append(Problem(where, message))
        return values, problems


RANDOM_STATE = Setting(
    "random_state", "int", None,
    "seed of the algorithm's random numbers; when unset the server derives one from "
    "the experiment name and returns it, so a restart continues the same sequence",
    low=0, high=2**32 - 1,
)

# Algorithms whose only knob is the seed.
SEED_ONLY = SettingsSchema((RANDOM_STATE,))
