"""The ``katib-suggest`` command: one console script, one subcommand per job (see ``commands/``)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence

from katib_suggestion import __version__
from katib_suggestion.commands import load_all
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.observability import configure_logging
from katib_suggestion.settings_env import checked, env, one_of

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
INTERRUPTED = 130  # the shell's status for Ctrl-C


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, without breaking words such as katib-config at their hyphen."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="katib-suggest", description="Hyperparameter suggestions for Katib.",
                                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"katib-suggest {__version__}")
    # None when neither the flag nor KATIB_SUGGEST_LOG_LEVEL is given: a command may pick a quieter default
    parser.add_argument("--log-level", default=env("LOG_LEVEL"), choices=LOG_LEVELS,
                        type=checked(one_of(LOG_LEVELS, str.upper, {"WARN": "WARNING"}),
                                     f"a log level ({', '.join(LOG_LEVELS)})"),
                        help="log verbosity, any case (default INFO; WARNING for run)")
    parser.add_argument("--log-format", default=env("LOG_FORMAT", "text"), choices=LOG_FORMATS,
                        type=checked(one_of(LOG_FORMATS, str.lower), "a log format (text, json)"),
                        help="text lines, or one JSON object per line for log collectors (default text)")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in load_all().items():
        command.add_arguments(subcommands.add_parser(name, help=command.summary))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:  # building the parser reads the backend catalog: a broken plugin stops here, named
        args = build_parser().parse_args(argv)
        configure_logging(args.log_level or "INFO", args.log_format)
        return load_all()[args.command].run(args)
    except (BackendUnavailable, OSError) as error:
        print(f"katib-suggest: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # while starting up, or a command without its own handling: no traceback
        print("katib-suggest: interrupted", file=sys.stderr)
        return INTERRUPTED
