"""Command-line defaults from KATIB_SUGGEST_<NAME> variables, checked as strictly as the flags themselves.

A variable's value becomes the flag's default as text; argparse converts a text default
with the flag's ``type`` only when the flag is absent (the flag wins) and only for the
command that runs. The ``checked`` types below then name the variable in their error.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import TypeVar

PREFIX = "KATIB_SUGGEST_"
T = TypeVar("T")


class FromEnvironment(str):
    """A default read from the environment; remembers which variable it came from."""

    variable: str


def env(name: str, default: str | None = None) -> str | None:
    """KATIB_SUGGEST_<name> as a flag default (unchecked text), or ``default``."""
    value = os.environ.get(PREFIX + name)
    if value is None:
        return default
    text = FromEnvironment(value)
    text.variable = PREFIX + name
    return text


def checked(parse: Callable[[str], T], expected: str) -> Callable[[str], T]:
    """An argparse ``type``: ``parse``, with an error that names the variable when the text came from one."""
    def convert(text: str) -> T:
        try:
            return parse(text)
        except (TypeError, ValueError):
            if isinstance(text, FromEnvironment):
                raise argparse.ArgumentTypeError(
                    f"{text.variable}={str(text)!r} is not {expected}; fix or unset the variable "
                    "(the flag, when given, wins)") from None
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}") from None
    convert.__name__ = expected
    return convert


def one_of(choices: Iterable[str], normalise: Callable[[str], str] = str,
           aliases: dict[str, str] | None = None) -> Callable[[str], str]:
    """A parser for a fixed set of words (argparse checks ``choices`` on flags, never on defaults)."""
    options, aliases = tuple(choices), aliases or {}

    def parse(text: str) -> str:
        word = normalise(text.strip())
        word = aliases.get(word, word)
        if word not in options:
            raise ValueError(text)
        return word
    return parse


def port(text: str) -> int:
    number = int(text)
    if not 0 <= number <= 65535:
        raise ValueError(text)
    return number


def positive_int(text: str) -> int:
    number = int(text)
    if number <= 0:
        raise ValueError(text)
    return number


def positive_float(text: str) -> float:
    number = float(text)
    if not number > 0 or number == float("inf"):
        raise ValueError(text)
    return number


def non_negative_float(text: str) -> float:
    number = float(text)
    if not 0 <= number < float("inf"):
        raise ValueError(text)
    return number


def optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """Empty text means unset (e.g. KATIB_SUGGEST_METRICS_PORT= turns metrics off)."""
    return lambda text: parse(text) if text.strip() else None
