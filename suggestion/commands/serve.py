"""``katib-suggest serve``: the suggestion server a Katib Experiment talks to."""

from __future__ import annotations

import argparse

from katib_suggestion.blas_threads import one_blas_thread
from katib_suggestion.commands import command
from katib_suggestion.lean_imports import without_openssl
from katib_suggestion.served import SERVED, default_port
from katib_suggestion.settings_env import checked, env, non_negative_float, one_of, optional, port, positive_int


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Serve Katib's Suggestion API for one backend. Every flag can also come from "
                          "the environment as KATIB_SUGGEST_<FLAG> (e.g. KATIB_SUGGEST_PORT); a flag given "
                          "on the command line wins.")
    parser.add_argument("--backend", choices=SERVED, default=env("BACKEND") or None, required=not env("BACKEND"),
                        type=checked(one_of(SERVED, str.lower), f"a backend ({', '.join(SERVED)})"),
                        help="backend to serve: one of ours or an installed plugin, or early-stopping for "
                             "Katib's EarlyStopping service")
    parser.add_argument("--host", default=env("HOST", "0.0.0.0"), help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=checked(port, "a port number (0-65535)"), default=env("PORT"),
                        help="port (default 6789; 6788 for early-stopping, as Katib expects)")
    seconds = checked(non_negative_float, "a number of seconds >= 0")
    parser.add_argument("--grace-period", type=seconds, default=env("GRACE_PERIOD", "30"),
                        help="seconds calls in flight may finish in after SIGTERM (default 30)")
    parser.add_argument("--drain-period", type=seconds, default=env("DRAIN_PERIOD", "1"),
                        help="seconds health reports NOT_SERVING before the server stops taking calls (default 1)")
    parser.add_argument("--metrics-port", type=checked(optional(port), "a port number (0-65535) or empty"),
                        default=env("METRICS_PORT"), help="serve Prometheus metrics on this port (default: off)")
    parser.add_argument("--max-workers", type=checked(positive_int, "a whole number > 0"),
                        default=env("MAX_WORKERS", "1"),
                        help="suggestion calls computed at once; health checks never wait for them (default 1)")


@command("serve", "serve Katib's Suggestion API (gRPC) for one backend", _arguments)
def serve(args: argparse.Namespace) -> int:
    one_blas_thread()  # before any backend imports numpy
    with without_openssl():
        from katib_suggestion.server import Config
        from katib_suggestion.server import serve as run_server

    chosen = args.port if args.port is not None else default_port(args.backend)
    return run_server(Config(backend=args.backend, host=args.host, port=chosen,
                             grace_period=args.grace_period, drain_period=args.drain_period,
                             max_workers=args.max_workers, metrics_port=args.metrics_port))
