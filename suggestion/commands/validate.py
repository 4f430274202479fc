"""``katib-suggest validate FILE...``: check Experiment and katib-config YAML offline."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

import yaml
from katib_suggestion.commands import command
from katib_validators.catalog import BACKENDS
from katib_validators.experiment import parse_experiment
from katib_validators.katib_config import check_katib_config
from katib_validators.problems import Problem
from katib_validators.resource import check_resource

VALID, INVALID, UNREADABLE = 0, 1, 2
CONFIG_KEY = "katib-config.yaml"


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Check Experiment resources (kubeflow.org/v1beta1) and katib-config files "
                          "offline; print every problem as 'file: field: message'. Exit 0 when all are "
                          "valid, 1 when there are problems, 2 when a file cannot be read or parsed.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="YAML files (several documents each allowed)")
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="check experiments against this backend only (default: any that serves "
                             "the algorithm)")


@command("validate", "check Experiment and katib-config YAML offline, as ValidateAlgorithmSettings would", _arguments)
def run(args: argparse.Namespace) -> int:
    status = VALID
    for path in args.files:
        lines, file_status = check_file(path, args.backend)
        for line in lines:
            print(line)
        status = max(status, file_status)
    if status == VALID:
        print(f"{len(args.files)} file(s) valid", file=sys.stderr)
    return status


def check_file(path: str, backend: str | None) -> tuple[list[str], int]:
    """Output lines for one file and its exit status (never raises)."""
    try:
        with open(path, encoding="utf-8") as stream:
            documents = list(yaml.safe_load_all(stream))
    except (OSError, UnicodeDecodeError) as error:
        return [f"{path}: cannot read: {getattr(error, 'strerror', None) or error}"], UNREADABLE
    except Exception as error:  # noqa: BLE001 - yaml.YAMLError, or RecursionError on absurd nesting
        return [f"{path}: not valid YAML: {_one_line(error)}"], UNREADABLE
    lines, checked = [], 0
    for number, document in enumerate(documents, start=1):
        if document is None:
            continue  # an empty document, e.g. after a trailing '---'
        label = path if len(documents) == 1 else f"{path}#{number}"
        problems = check_document(document, backend)
        if problems is not None:
            checked += 1
            lines += [f"{label}: {problem}" for problem in problems]
    if not checked:
        lines.append(f"{path}: kind: no Experiment (kubeflow.org/v1beta1) or katib-config in this file")
    return lines, INVALID if lines else VALID


def check_document(document: Any, backend: str | None) -> list[Problem] | None:
    """Problems of one YAML document; None when it is neither an Experiment nor a katib-config."""
    if not isinstance(document, Mapping):
        return [Problem("kind", "expected a Kubernetes resource (a mapping with apiVersion and kind)",
                        type(document).__name__)]
    kind = document.get("kind")
    if isinstance(kind, str) and kind.lower() == "experiment":
        return parse_experiment(document, backend)[1] + check_resource(document)
    if kind == "KatibConfig":
        return check_katib_config(document)
    if kind == "ConfigMap" and _is_katib_config(document):
        return _check_config_map(document)
    return None


def _is_katib_config(document: Mapping[str, Any]) -> bool:
    metadata, data = document.get("metadata"), document.get("data")
    return (isinstance(metadata, Mapping) and metadata.get("name") == "katib-config") or \
        (isinstance(data, Mapping) and CONFIG_KEY in data)


def _check_config_map(document: Mapping[str, Any]) -> list[Problem]:
    data = document.get("data")
    text = data.get(CONFIG_KEY) if isinstance(data, Mapping) else None
    path = f"data.{CONFIG_KEY}"
    if not isinstance(text, str):
        return [Problem(path, "the katib-config ConfigMap holds the KatibConfig as a string under this key")]
    try:
        config = yaml.safe_load(text)
    except Exception as error:  # noqa: BLE001 - as in check_file
        return [Problem(path, f"not valid YAML: {_one_line(error)}")]
    return check_katib_config(config)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__
