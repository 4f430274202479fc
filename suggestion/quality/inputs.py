"""Check a benchmark's inputs before any run starts: every problem at once, each naming the option and the fix."""

from __future__ import annotations

import argparse
from pathlib import Path

from katib_suggestion.quality import baseline as baselines
from katib_suggestion.quality.problems import PROBLEMS
from katib_validators.catalog import ALGORITHMS

RESULTS = "results.json"


BASELINES = Path(__file__).resolve().parent / "baselines"  # package data: installed with the package


def default_baseline(suite: str) -> Path:
    """The committed baseline of ``suite``, shipped inside the package, so `benchmark` works in any folder."""
    return BASELINES / f"{suite}.json"


def results_path(folder: str) -> Path:
    """A results folder (or the results.json inside it) -> the file."""
    path = Path(folder)
    return path if path.suffix == ".json" else path / RESULTS


def external(args: argparse.Namespace) -> str | None:
    """The server under test when it is not a fresh one of ours: an address or a command template."""
    return args.address or args.server_command


def resolve_algorithm(name: str, backends: list[str] | None):
    """The catalog algorithm an algorithmName selects, or a message saying how to pick one."""
    found = [a for a in ALGORITHMS if name in a.names and (not backends or a.backend in backends)]
    if len(found) == 1:
        return found[0], None
    if not found:
        known = sorted({n for a in ALGORITHMS for n in a.names})
        return None, f"--algorithm: unknown algorithm {name!r}; choose one of {', '.join(known)}"
    choices = " or ".join(f"--backend {a.backend}" for a in found)
    return None, f"--algorithm: {name} is served by several backends; add {choices}"


def problems_with(args: argparse.Namespace) -> list[str]:
    """Everything wrong with the command line, the baseline and the output folder (nothing runs yet)."""
    if args.compare:
        return [f"--compare: {p}" for folder in args.compare
                for p in _unreadable(results_path(folder))] + _folder(Path(args.out))
    problems = _names(args)
    for option, value in (("--address", args.address), ("--server-command", args.server_command)):
        if value and not args.algorithm:
            problems.append(f"{option} needs --algorithm NAME: the algorithmName to send to that server")
        if value and args.algorithms:
            problems.append(f"--algorithms picks among our algorithms; with {option} give one --algorithm NAME")
    if args.address and args.server_command:
        problems.append("--address and --server-command both name the server under test; give one")
    problems += [f"--parallel: {p} is not a positive number of parallel trials" for p in args.parallel or ()
                 if p < 1]
    if args.seeds is not None and args.seeds < 1:
        problems.append(f"--seeds: {args.seeds} runs no seed; give 1 or more")
    problems += [f"--settings: {item!r} is not NAME=VALUE" for item in args.settings or () if "=" not in item]
    problems += _folder(Path(args.out)) + _extras(args) + _targets(args)
    if not (args.write_baseline or args.update_baseline) and (args.baseline or not external(args)):
        path = Path(args.baseline) if args.baseline else default_baseline(args.suite)
        problems += [f"baseline: {p} (pass --baseline PATH, or create one with --write-baseline PATH)"
                     for p in _unreadable(path)]
    return problems


def _names(args: argparse.Namespace) -> list[str]:
    problems = []
    unknown = [p for p in args.problems or () if p not in PROBLEMS]
    if unknown:
        problems.append(f"--problems: unknown {', '.join(unknown)}; choose from {', '.join(PROBLEMS)}")
    keys = {a.key for a in ALGORITHMS}
    unknown = [a for a in args.algorithms or () if a not in keys]
    if unknown:
        problems.append(f"--algorithms: unknown {', '.join(unknown)}; choose from {', '.join(sorted(keys))}")
    if args.algorithm:
        problems += [message for message in [resolve_algorithm(args.algorithm, args.backend)[1]] if message]
    return problems


def _extras(args: argparse.Namespace) -> list[str]:
    """Optional packages an option needs: missing ones would otherwise show only after the runs."""
    import importlib.util

    needed = (("--ray", args.ray, "ray"), ("--mlflow", args.mlflow is not None, "mlflow"))
    return [f"{option} needs {package}: pip install 'katib-suggest[{package}]'" for option, wanted, package in needed
            if wanted and importlib.util.find_spec(package) is None]


def _targets(args: argparse.Namespace) -> list[str]:
    """A baseline to write must be writable, and one to update must be a results file of the same suite."""
    option, target = ("--update-baseline", args.update_baseline) if args.update_baseline else \
        ("--write-baseline", args.write_baseline)
    if not target:
        return []
    path = Path(target)
    if path.is_dir():
        return [f"{option}: {path} is a folder; give a file name such as {path / (args.suite + '.json')}"]
    if args.update_baseline and path.exists():
        problems = _unreadable(path)
        if problems:
            return [f"{option}: {p}" for p in problems]
        suite = baselines.load(path).get("suite")
        if suite != args.suite:
            return [f"{option}: {path} is a {suite} baseline; run --suite {suite} or choose another file"]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return [f"{option}: cannot create {path.parent} ({error.strerror or error})"]
    return []


def _unreadable(path: Path) -> list[str]:
    if not path.is_file():
        return [f"{path} does not exist"]
    try:
        baselines.load(path)
    except (ValueError, OSError) as error:  # JSONDecodeError is a ValueError
        return [f"{path} cannot be read as benchmark results ({error})"]
    return []


def _folder(out: Path) -> list[str]:
    """The output folder must be a folder we can write (created now, so a typo fails before the runs)."""
    try:
        (out / "report").mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        return [f"--out: cannot write to {out} ({error.strerror or error}); choose another folder"]
    return []
