"""``katib-suggest validate FILE...``: check Experiment and katib-config YAML offline."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from katib_suggestion.authoring.inputs import is_init_spec
from katib_suggestion.commands import command
from katib_validators.catalog import BACKENDS
from katib_validators.early_stopping_experiment import check_early_stopping
from katib_validators.experiment import parse_experiment
from katib_validators.katib_config import check_katib_config
from katib_validators.locate import document_nodes, line_of
from katib_validators.problems import Problem
from katib_validators.resource import check_resource, resource_warnings

VALID, INVALID, UNREADABLE = 0, 1, 2
CONFIG_KEY = "katib-config.yaml"
ERROR, WARNING, NOTE = "error", "warning", "note"  # notes: documents not checked (another kind)


@dataclass(frozen=True)
class Finding:
    """One problem of one document of one file, with its severity."""

    file: str
    document: int | None  # 1-based, for files of several documents
    severity: str
    problem: Problem
    lineno: int | None = None  # where the field (or its closest written parent) is in the file

    def line(self) -> str:
        label = f"{self.file}:{self.lineno}" if self.lineno else \
            self.file if self.document is None else f"{self.file}#{self.document}"
        marker = "" if self.severity == ERROR else f"{self.severity}: "
        return f"{label}: {marker}{self.problem}" if self.problem.path else f"{label}: {marker}{self.problem.message}"

    def as_json(self) -> dict[str, Any]:
        item = {"file": self.file, "document": self.document, "line": self.lineno, "severity": self.severity,
                "field": self.problem.path, "message": self.problem.message}
        if self.problem.has_value:
            item["value"] = self.problem.value
        return item


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Check Experiment resources (kubeflow.org/v1beta1) and katib-config files "
                          "offline; print every problem as 'file: field: message', then warnings as "
                          "'file: warning: field: message' (things that stop trials only in some clusters). "
                          "Exit 0 when all are valid (warnings allowed unless --strict), 1 when there are "
                          "problems, 2 when a file cannot be read or parsed.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="YAML files (several documents each allowed)")
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="check experiments against this backend only (default: any that serves "
                             "the algorithm)")
    parser.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text lines, or one JSON object with every problem for CI (default text)")


@command("validate", "check Experiment and katib-config YAML offline, as ValidateAlgorithmSettings would", _arguments)
def run(args: argparse.Namespace) -> int:
    findings, status = [], VALID
    for path in args.files:
        found, file_status = check_file(path, args.backend)
        findings += found
        status = max(status, file_status)
    warnings = sum(1 for f in findings if f.severity == WARNING)
    errors = sum(1 for f in findings if f.severity == ERROR)
    if status == VALID and warnings and args.strict:
        status = INVALID
    if args.format == "json":
        print(json.dumps({"valid": status == VALID, "exit_code": status, "files": len(args.files),
                          "errors": errors, "warnings": warnings,
                          "problems": [f.as_json() for f in findings]}, indent=2, default=str))
        return status
    order = (ERROR, WARNING, NOTE)
    # errors, then warnings, then notes; each file's in the order of their lines
    for finding in sorted(findings, key=lambda f: (order.index(f.severity), args.files.index(f.file),
                                                   f.lineno or 0)):
        print(finding.line())
    if status == VALID:
        noted = f", {warnings} warning{'s' if warnings != 1 else ''} (--strict fails on them)" if warnings else ""
        print(f"{len(args.files)} file(s) valid{noted}")
    return status


def check_file(path: str, backend: str | None) -> tuple[list[Finding], int]:
    """Findings of one file and its exit status, not counting warnings (never raises)."""
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
        documents = list(yaml.safe_load_all(text))
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        return [Finding(path, None, ERROR, Problem("", f"cannot read: {reason}"))], UNREADABLE
    except Exception as error:  # noqa: BLE001 - yaml.YAMLError, or RecursionError on absurd nesting
        return [Finding(path, None, ERROR, Problem("", f"not valid YAML: {_one_line(error)}"))], UNREADABLE
    nodes = document_nodes(text)
    findings, checked, others = [], 0, []
    for number, document in enumerate(documents, start=1):
        if document is None:
            continue  # an empty document, e.g. after a trailing '---'
        label = None if len(documents) == 1 else number
        node = nodes[number - 1] if len(nodes) == len(documents) else None
        checks = _init_spec(path) if is_init_spec(document) else check_document(document, backend)
        if checks is None:
            others.append((label, node, _kind_of(document)))
            continue
        checked += 1
        for severity, problems in zip((ERROR, WARNING), checks, strict=True):
            findings += [Finding(path, label, severity, p, line_of(node, p.path)) for p in problems]
    if not checked:
        kinds = f" (found {', '.join(kind for _, _, kind in others)})" if others else ""
        problem = Problem("kind", f"no Experiment (kubeflow.org/v1beta1) or katib-config in this file{kinds}")
        findings.append(Finding(path, None, ERROR, problem))
    else:
        findings += [Finding(path, label, NOTE, Problem("kind", f"{kind} is neither an Experiment nor a "
                                                        "katib-config; not checked"), line_of(node, "kind"))
                     for label, node, kind in others]
    return findings, INVALID if any(f.severity == ERROR for f in findings) else VALID


def _kind_of(document: Any) -> str:
    kind = document.get("kind") if isinstance(document, Mapping) else None
    return kind if isinstance(kind, str) and kind else "a document without a kind"


def _init_spec(path: str) -> tuple[list[Problem], list[Problem]]:
    return [Problem("", f"this is a katib-suggest init spec file (keys spelled like init's flags), not an "
                        f"Experiment; write the Experiment from it with: katib-suggest init --from {path} -o "
                        "EXPERIMENT.yaml, then validate EXPERIMENT.yaml")], []


def check_document(document: Any, backend: str | None) -> tuple[list[Problem], list[Problem]] | None:
    """(errors, warnings) of one YAML document; None when it is neither an Experiment nor a katib-config."""
    if not isinstance(document, Mapping):
        return [Problem("kind", "expected a Kubernetes resource (a mapping with apiVersion and kind)",
                        type(document).__name__)], []
    kind = document.get("kind")
    if isinstance(kind, str) and kind.lower() == "experiment":
        stopping_errors, stopping_warnings = check_early_stopping(document)
        return (parse_experiment(document, backend)[1] + check_resource(document) + stopping_errors,
                resource_warnings(document) + stopping_warnings)
    if kind == "KatibConfig":
        return check_katib_config(document), []
    if kind == "ConfigMap" and _is_katib_config(document):
        return _check_config_map(document), []
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
