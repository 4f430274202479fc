"""The subcommands of ``katib-suggest``: one module per command, each registered with ``@command``."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str  # one line, shown by ``katib-suggest --help``
    add_arguments: AddArguments
    run: Run


COMMANDS: dict[str, Command] = {}
# Modules that define commands, in the order --help lists them.
MODULES = ("serve", "init", "validate", "run", "benchmark", "katib_config")


def command(name: str, summary: str, add_arguments: AddArguments) -> Callable[[Run], Run]:
    """Register the decorated function as subcommand ``name``."""
    def register(run: Run) -> Run:
        COMMANDS[name] = Command(name, summary, add_arguments, run)
        return run
    return register


def load_all() -> dict[str, Command]:
    """Import every command module (cheap: heavy imports happen inside the commands)."""
    for module in MODULES:
        importlib.import_module(f"katib_suggestion.commands.{module}")
    return COMMANDS
