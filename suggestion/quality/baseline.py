"""Committed baselines: per-cell scores plus how, where and with what versions they were produced."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

_PACKAGES = ("katib-suggest", "optuna", "cmaes", "hyperopt", "scikit-optimize", "scikit-learn", "numpy", "scipy",
             "grpcio", "protobuf")


def versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0]}
    for package in _PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def document(suite: str, cells: dict[str, dict], command: str, seconds: float,
             reference: dict[str, dict] | None = None, server: str | None = None,
             run_seconds: float | None = None) -> dict:
    """A results file; the same format serves as a baseline when committed.

    ``cells`` are our arm's (or, with ``server``, that server's), ``reference`` the reference
    arms' under the same keys. ``produced_by`` lists every command whose cells the file holds
    (several after merge()). ``seconds`` is this command's wall time; ``run_seconds`` adds up
    the runs' own times, which is what a resumed benchmark took over all its invocations.
    """
    run = {"command": command, "seconds": round(seconds, 1), "cells": len(cells),
           "created": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
           "versions": versions()}
    if run_seconds is not None:
        run["run_seconds"] = round(run_seconds, 1)
    if server:
        run["server"] = server
    return {"suite": suite, "produced_by": [run], "cells": cells, "reference": reference or {}}


def merge(old: dict, new: dict) -> dict:
    """``old`` with the cells ``new`` ran replaced, e.g. to refresh one backend's cells."""
    if old.get("suite") != new["suite"]:
        raise ValueError(f"cannot merge a {new['suite']} run into a {old.get('suite')} baseline")
    return {"suite": new["suite"], "produced_by": [*old.get("produced_by", []), *new["produced_by"]],
            "cells": {**old["cells"], **new["cells"]},
            "reference": {**old.get("reference", {}), **new.get("reference", {})}}


def provenance(doc: dict) -> str:
    return "; ".join(f"`{run['command']}` ({run['created']})" for run in doc.get("produced_by", []))


def save(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def load(path: Path) -> dict:
    doc = json.loads(path.read_text())
    if not isinstance(doc.get("cells"), dict):
        raise ValueError(f"{path} is not a benchmark results file (no 'cells')")
    return doc
