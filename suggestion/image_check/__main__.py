"""``python -m katib_suggestion.image_check``: build every image and run it as Katib would; print one table."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from katib_suggestion.image_check.base import base_image
from katib_suggestion.image_check.build import Built, build
from katib_suggestion.image_check.engine import EngineProblem, check_containers_run, find_engine
from katib_suggestion.image_check.pod import UnsupportedSetting
from katib_suggestion.image_check.report import Row, table
from katib_suggestion.image_check.run import CheckFailed, Outcome, entry_from_image, run_as_shipped
from katib_suggestion.image_check.targets import IMAGES
from katib_suggestion.image_check.workloads import WorkloadFailed
from katib_suggestion.images import image_for


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m katib_suggestion.image_check", description=__doc__)
    parser.add_argument("images", nargs="*", metavar="IMAGE",
                        help=f"which images (default: all of {', '.join(IMAGES)})")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository checkout (default: here)")
    parser.add_argument("--engine", choices=("podman", "docker"), help="default: docker with a daemon, else podman")
    parser.add_argument("--base", help="the Python base image (default: python:3.11-slim, else one made with "
                                       "debootstrap when no registry answers)")
    parser.add_argument("--no-build", action="store_true", help="check images built before, under their names")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _arguments()
    args = parser.parse_args(argv)
    unknown = [name for name in args.images if name not in IMAGES]
    if unknown:
        parser.error(f"unknown image {', '.join(unknown)}; choose from {', '.join(IMAGES)}")
    root = args.root.resolve()
    if not (root / "docker" / "Dockerfile").is_file():
        print(f"image check: {root} is not a katib-suggest checkout (no docker/Dockerfile); use --root",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="katib-image-check-") as scratch:
        work = Path(scratch)
        try:
            engine = find_engine(args.engine, work)
            base = base_image(engine, args.base, _log)
            check_containers_run(engine, base)
        except EngineProblem as error:
            print(f"image check: {error}", file=sys.stderr)
            return 2
        rows = [_check(engine, IMAGES[name], root, base, work, args.no_build) for name in args.images or IMAGES]
    print(table(rows))
    return 0 if all(row.passed for row in rows) else 1


def _check(engine, target, root: Path, base: str, work: Path, no_build: bool) -> Row:
    built, outcome = None, Outcome()
    try:
        _log(f"{target.name}: building")
        built = _existing(engine, target) if no_build else build(engine, target, root, base, work)
        entry = entry_from_image(engine, built.image, target)
        _log(f"{target.name}: running as its katib-config entry says")
        run_as_shipped(engine, built.image, target, entry, root, outcome, work / target.name)
        result = "ok"
    except (CheckFailed, WorkloadFailed, EngineProblem, UnsupportedSetting) as error:
        _log(f"{target.name}: FAILED: {error}")
        result = f"FAILED: {str(error).splitlines()[0][:160]}"
    _log(f"{target.name}: {result}; {'; '.join(outcome.notes)}")
    return Row(target.name, built, outcome, result)


def _existing(engine, target) -> Built:
    image = image_for(target.name)
    return Built(image, 0.0, engine.image_size(image))


def _log(message: str) -> None:
    print(f"image check: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
