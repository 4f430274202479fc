"""`katib-suggest run EXPERIMENT.yaml`: a Katib Experiment on this machine, no cluster needed."""

from __future__ import annotations

import argparse
import csv
import sys
from contextlib import contextmanager
from pathlib import Path

from katib_suggestion.commands import command
from katib_suggestion.local.process import FUNCTION_ANNOTATION
from katib_validators.catalog import BACKENDS


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run a Katib Experiment YAML locally: our suggestion server for its algorithm, driven as Katib's "
        "controller drives it, each trial the trial template's command (parameters substituted, metrics read "
        f"from stdout as name=value) or a built-in function (--function, or the annotation {FUNCTION_ANNOTATION}).")
    parser.add_argument("experiment", type=Path, help="the Experiment YAML")
    parser.add_argument("--address", help="use this running suggestion server (HOST:PORT) instead of starting one")
    parser.add_argument("--backend", choices=BACKENDS, help="backend for the algorithm (default: the first that "
                                                            "accepts the experiment)")
    parser.add_argument("--function", help="evaluate trials with a built-in benchmark function (branin, hartmann6, "
                                           "rosenbrock4, training-run, boosting-run, svm-digits)")
    parser.add_argument("--cwd", type=Path, default=Path("."), help="working directory of trial commands (default .)")
    parser.add_argument("--trial-timeout", type=float, default=3600.0,
                        help="seconds before a trial's process is killed and the trial fails (default 3600)")
    parser.add_argument("--max-trials", type=int, help="override spec.maxTrialCount")
    parser.add_argument("--out", type=Path, help="folder for trial logs, trials.csv and the plot "
                                                 "(default ./katib-run-NAME)")
    parser.add_argument("--no-plot", action="store_true", help="skip the convergence plot")


@command("run", "run a Katib Experiment on this machine, trials as local processes", _arguments)
def _run(args: argparse.Namespace) -> int:
    from katib_suggestion.local import experiment as local

    try:
        doc = local.load_experiment(args.experiment, args.max_trials)
        backend = local.choose_backend(doc, args.backend)
        out = args.out or Path(f"katib-run-{doc['metadata']['name']}")
        function = local.trial_function(doc, args.function, args.cwd, args.trial_timeout, out)
    except local.Invalid as invalid:
        print(f"katib-suggest run: {args.experiment}:\n{invalid}", file=sys.stderr)
        return 2
    with _stub(args.address, backend) as stub:
        problem = local.validate_on_server(stub, doc)
        if problem:
            print(f"katib-suggest run: the suggestion server rejected the experiment:\n{problem}", file=sys.stderr)
            return 2
        result = local.run(doc, stub, function)
    _write_trials(out / "trials.csv", result.trials.finished)
    print(result.summary())
    print(f"trials.csv and trial logs: {out}")
    if not args.no_plot:
        print(result.plot(out / "convergence.png"))
    return 0 if result.succeeded else 1


@contextmanager
def _stub(address: str | None, backend: str):
    import grpc
    from katib_api import api_pb2_grpc
    from katib_suggestion.server import Config, make_server

    running = None
    if address is None:
        running = make_server(Config(backend=backend, host="127.0.0.1", port=0))
        running.server.start()
        running.mark_serving()
        address = f"127.0.0.1:{running.port}"
    try:
        with grpc.insecure_channel(address) as channel:
            yield api_pb2_grpc.SuggestionStub(channel)
    finally:
        if running is not None:
            running.server.stop(None).wait()


def _write_trials(path: Path, finished) -> None:
    names = sorted({name for item in finished for name in item.assignments})
    metrics = sorted({name for item in finished for name in item.outcome.metrics})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["trial", "status", "objective", *names, *metrics, "message"])
        for item in finished:
            o = item.outcome
            writer.writerow([item.name, "Succeeded" if o.value is not None else "Failed",
                             "" if o.value is None else repr(o.value), *(item.assignments.get(n, "") for n in names),
                             *(repr(o.metrics[m]) if m in o.metrics else "" for m in metrics), o.message])
