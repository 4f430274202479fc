"""The ``katib-suggest`` command: one console script, one subcommand per job (see ``commands/``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from katib_suggestion import __version__
from katib_suggestion.commands import load_all
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.observability import configure_logging
from katib_suggestion.settings_env import env


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="katib-suggest", description="Hyperparameter suggestions for Katib.")
    parser.add_argument("--version", action="version", version=f"katib-suggest {__version__}")
    parser.add_argument("--log-level", default=env("LOG_LEVEL", "INFO"),
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="log verbosity (default INFO)")
    parser.add_argument("--log-format", default=env("LOG_FORMAT", "text"), choices=("text", "json"),
                        help="text lines, or one JSON object per line for log collectors (default text)")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in load_all().items():
        command.add_arguments(subcommands.add_parser(name, help=command.summary))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:  # building the parser reads the backend catalog: a broken plugin stops here, named
        args = build_parser().parse_args(argv)
        configure_logging(args.log_level, args.log_format)
        return load_all()[args.command].run(args)
    except (BackendUnavailable, OSError) as error:
        print(f"katib-suggest: {error}", file=sys.stderr)
        return 2
