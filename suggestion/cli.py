"""The ``katib-suggest`` command: one console script, one subcommand per job."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from katib_suggestion import __version__
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.observability import configure_logging
from katib_validators.catalog import BACKENDS

# Subcommands beyond serve register here: name -> (add_arguments, run).
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def command(name: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    def register(run: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = (add_arguments, run)
        return run
    return register


def _env(name: str, default: str) -> str:
    return os.environ.get(f"KATIB_SUGGEST_{name}", default)


def _optional_int(text: str) -> int | None:
    return int(text) if text else None


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Serve Katib's Suggestion API for one backend. Every flag can also come from "
                          "the environment as KATIB_SUGGEST_<FLAG> (e.g. KATIB_SUGGEST_PORT).")
    parser.add_argument("--backend", choices=BACKENDS, default=_env("BACKEND", "") or None,
                        required=not _env("BACKEND", ""), help="optimisation library to serve")
    parser.add_argument("--host", default=_env("HOST", "0.0.0.0"), help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=int(_env("PORT", "6789")), help="port (default 6789)")
    parser.add_argument("--grace-period", type=float, default=float(_env("GRACE_PERIOD", "30")),
                        help="seconds calls in flight may finish in after SIGTERM (default 30)")
    parser.add_argument("--drain-period", type=float, default=float(_env("DRAIN_PERIOD", "1")),
                        help="seconds health reports NOT_SERVING before the server stops taking calls (default 1)")
    parser.add_argument("--metrics-port", type=int, default=_optional_int(_env("METRICS_PORT", "")),
                        help="serve Prometheus metrics on this port (default: off)")
    parser.add_argument("--max-workers", type=int, default=int(_env("MAX_WORKERS", "8")),
                        help="concurrent calls (default 8)")


# BLAS libraries start one thread per core of the node, not of the pod's CPU limit
# (500m by default): an skopt call at 1,000 trials took 32-44 s instead of 6-8 s on
# two cores. Set before any backend imports numpy; an explicit value still wins.
_ONE_BLAS_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@command("serve", _serve_arguments)
def _serve(args: argparse.Namespace) -> int:
    for name in _ONE_BLAS_THREAD:
        os.environ.setdefault(name, "1")
    from katib_suggestion.server import Config, serve

    return serve(Config(backend=args.backend, host=args.host, port=args.port,
                        grace_period=args.grace_period, drain_period=args.drain_period,
                        max_workers=args.max_workers, metrics_port=args.metrics_port))




def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="katib-suggest", description="Hyperparameter suggestions for Katib.")
    parser.add_argument("--version", action="version", version=f"katib-suggest {__version__}")
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"),
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="log verbosity (default INFO)")
    parser.add_argument("--log-format", default=_env("LOG_FORMAT", "text"), choices=("text", "json"),
                        help="text lines, or one JSON object per line for log collectors (default text)")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_arguments, _) in COMMANDS.items():
        add_arguments(subcommands.add_parser(name))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    try:
        return COMMANDS[args.command][1](args)
    except (BackendUnavailable, OSError) as error:
        print(f"katib-suggest: {error}", file=sys.stderr)
        return 2


# Subcommand modules register themselves with @command when imported; they import
# `command` from here, so they come last.
from katib_suggestion import benchmark_command, run_command, validate_command  # noqa: E402,F401,I001
