"""`katib-suggest run EXPERIMENT.yaml`: a Katib Experiment on this machine, no cluster needed."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from katib_suggestion.commands import command
from katib_suggestion.local.groups import DEFAULT_GRACE
from katib_suggestion.local.process import FUNCTION_ANNOTATION
from katib_suggestion.settings_env import checked, non_negative_float, positive_float, positive_int
from katib_validators.catalog import BACKENDS

INVALID = 2  # the experiment or the server cannot be used; 0, 1 and 130 follow the experiment's end


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run a Katib Experiment YAML locally: our suggestion server for its algorithm, driven as Katib's "
        "controller drives it, each trial the trial template's command (parameters substituted, metrics read "
        "from stdout and stderr together as name=value, as Katib's StdOut collector reads them) or a built-in "
        f"function (--function, or the annotation {FUNCTION_ANNOTATION}). "
        "Results on stdout, progress and diagnostics on stderr. Exit status: 0 Succeeded, 1 Failed (as Katib "
        "would mark the Experiment), 2 invalid experiment or unusable server, 130 stopped by Ctrl-C or "
        "SIGTERM with the results so far written; a second Ctrl-C ends at once.")
    parser.add_argument("experiment", type=Path, help="the Experiment YAML")
    parser.add_argument("--address", help="use this running suggestion server (HOST:PORT) instead of starting one")
    parser.add_argument("--backend", choices=BACKENDS, help="backend for the algorithm (default: the one "
                        "katib-suggest katib-config routes it to on a cluster: tpe and random go to hyperopt)")
    parser.add_argument("--function", help="evaluate trials with a built-in benchmark function (branin, hartmann6, "
                                           "rosenbrock4, training-run, boosting-run, svm-digits)")
    parser.add_argument("--cwd", type=Path, default=Path("."), help="working directory of trial commands (default .)")
    parser.add_argument("--trial-timeout", type=checked(positive_float, "a number of seconds > 0"), default=3600.0,
                        help="seconds before a trial's processes are ended and the trial fails (default 3600)")
    parser.add_argument("--grace-period", type=checked(non_negative_float, "a number of seconds >= 0"),
                        default=DEFAULT_GRACE, help="seconds a trial's processes have between SIGTERM and SIGKILL "
                        f"(timeout, Ctrl-C, end of the experiment; default {DEFAULT_GRACE:g})")
    parser.add_argument("--max-trials", type=checked(positive_int, "a whole number > 0"),
                        help="override spec.maxTrialCount (maxFailedTrialCount is lowered to fit)")
    parser.add_argument("--out", type=Path, help="folder for trial logs, trials.csv and the plot "
                                                 "(default ./katib-run-NAME)")
    parser.add_argument("--force", action="store_true", help="replace an earlier run's results in the output "
                                                                 "folder (without it, such a folder is refused)")
    parser.add_argument("--no-plot", action="store_true", help="skip the convergence plot")


@command("run", "run a Katib Experiment on this machine, trials as local processes", _arguments)
def _run(args: argparse.Namespace) -> int:
    if args.log_level is None:  # the progress bar is the output; one log line per call would drown it
        logging.getLogger().setLevel(logging.WARNING)
    quiet = _quiet_grpc(args.log_level)  # before anything imports grpc: its C core reads the variable then
    try:
        return _prepare(args)
    finally:
        quiet()


def _prepare(args: argparse.Namespace) -> int:
    """Check everything `validate` checks and where results go, then drive the run."""
    from katib_suggestion.local import experiment as local
    from katib_suggestion.local import gpus, preflight
    from katib_suggestion.local.groups import ProcessGroups

    groups = ProcessGroups(args.grace_period)
    try:
        doc, notes = local.load_experiment(args.experiment, args.max_trials)
        backend, serving = preflight.route(doc, args.backend, args.address)
        checked = preflight.check(doc, backend)
        if checked.errors:
            return _refuse(args.experiment, checked)
        out = args.out or Path(f"katib-run-{doc['metadata']['name']}")
        preflight.clean_output(out, args.force)
        gpu = gpus.plan(doc["spec"])
        function, with_logs = local.trial_function(doc, args.function, args.cwd, args.trial_timeout, out, groups,
                                                   gpu.shares)
    except local.Invalid as invalid:
        print(f"katib-suggest run: {args.experiment}:\n{invalid}", file=sys.stderr)
        return INVALID
    except preflight.EarlierRun as earlier:
        print(f"katib-suggest run: {earlier}", file=sys.stderr)
        return INVALID
    for line in [*(f"note: {n}" for n in notes), *(f"warning: {w}" for w in checked.warnings), gpu.note, serving]:
        if line:
            print(f"katib-suggest run: {line}", file=sys.stderr)
    return _drive(args, doc, backend, function, groups if with_logs else None, out)


def _refuse(path: Path, checked) -> int:
    """Katib would refuse this Experiment: say why, as `validate` does, and start nothing."""
    print(f"katib-suggest run: {path}: {len(checked.errors)} problem(s), as katib-suggest validate reports them; "
          "nothing was started:", file=sys.stderr)
    for line in [*map(str, checked.errors), *(f"warning: {w}" for w in checked.warnings), *checked.hints]:
        print(f"  {line}", file=sys.stderr)
    return INVALID


def _drive(args: argparse.Namespace, doc, backend: str, function, groups, out: Path) -> int:
    from katib_suggestion.local import connect
    from katib_suggestion.local import experiment as local
    from katib_suggestion.local.interrupt import Interrupt, describe
    from katib_suggestion.local.progress import note

    def stop(signum: int) -> None:
        running = groups.running() if groups else 0
        note(f"katib-suggest run: {describe(signum)}: no new trials; ending {running} running trial(s) "
             f"(SIGTERM, SIGKILL after {args.grace_period:g} s); press Ctrl-C again to quit at once")
        if groups:
            groups.end_all(f"interrupted by {describe(signum)}")

    with Interrupt(stop, groups.kill_all if groups else lambda: None) as interrupt:
        try:
            with connect.suggestion_stub(args.address, backend) as stub:
                problem = connect.validate_on_server(stub, doc)
                if problem:
                    print(f"katib-suggest run: the suggestion server rejected the experiment:\n{problem}",
                          file=sys.stderr)
                    return INVALID
                if interrupt.signum is not None:
                    print("katib-suggest run: interrupted before the first trial", file=sys.stderr)
                    return interrupt.exit_status
                result = local.run(doc, stub, function, groups, lambda: interrupt.signum)
        except connect.ServerProblem as problem:
            print(f"katib-suggest run: {problem}", file=sys.stderr)
            return INVALID
        _report(result, out, groups is not None, args.no_plot)
        return result.verdict.exit_status


def _report(result, out: Path, with_logs: bool, no_plot: bool) -> None:
    """Results on stdout; what could not be done on stderr."""
    result.write_csv(out / "trials.csv")
    print(result.summary())
    print(f"trials.csv and trial logs: {out}" if with_logs else f"trials.csv: {out / 'trials.csv'}")
    if not no_plot:
        note = result.plot(out / "convergence.png")
        print(note, file=sys.stdout if note.startswith("convergence plot") else sys.stderr)


def _quiet_grpc(log_level: str | None):
    """Silence gRPC's C core ("Got goaway"...) unless debugging; returns the undo.

    grpcio reads GRPC_VERBOSITY when it is imported (set later, it changes nothing: measured with
    grpcio 1.85), so this runs before anything of the run imports grpc. Trial processes do not
    inherit it (process.OWN_ENVIRONMENT): a trial that uses gRPC keeps its own logs.
    """
    from katib_suggestion.local.process import OWN_ENVIRONMENT

    if log_level == "DEBUG" or "GRPC_VERBOSITY" in os.environ:
        return lambda: None
    os.environ["GRPC_VERBOSITY"] = "NONE"
    OWN_ENVIRONMENT.add("GRPC_VERBOSITY")

    def undo() -> None:
        os.environ.pop("GRPC_VERBOSITY", None)
        OWN_ENVIRONMENT.discard("GRPC_VERBOSITY")

    return undo
