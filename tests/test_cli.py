"""The command line itself: --help lists every command, environment variables are checked like flags."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from katib_suggestion.cli import build_parser, main
from katib_suggestion.commands import load_all
from katib_suggestion.observability import _json_formatter

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_every_command_with_its_one_line_summary(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps long summaries
    commands = load_all()
    assert {"serve", "validate", "run", "benchmark"} <= set(commands)
    for name, command in commands.items():
        assert command.summary.strip() and "\n" not in command.summary, name
        assert f"{name} {command.summary}" in text, name


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("KATIB_SUGGEST_PORT", "abc", "argument --port: KATIB_SUGGEST_PORT='abc' is not a port number (0-65535)"),
    ("KATIB_SUGGEST_PORT", "70000", "KATIB_SUGGEST_PORT='70000' is not a port number"),
    ("KATIB_SUGGEST_MAX_WORKERS", "0", "KATIB_SUGGEST_MAX_WORKERS='0' is not a whole number > 0"),
    ("KATIB_SUGGEST_GRACE_PERIOD", "soon", "KATIB_SUGGEST_GRACE_PERIOD='soon' is not a number of seconds >= 0"),
    ("KATIB_SUGGEST_BACKEND", "tensorflow", "KATIB_SUGGEST_BACKEND='tensorflow' is not a backend"),
    ("KATIB_SUGGEST_LOG_FORMAT", "xml", "KATIB_SUGGEST_LOG_FORMAT='xml' is not a log format (text, json)"),
])
def test_bad_environment_variables_are_clean_usage_errors(monkeypatch, capsys, variable, value, expected):
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("KATIB_SUGGEST_BACKEND", value if variable.endswith("BACKEND") else "optuna")
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["serve"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert expected in error and "fix or unset the variable" in error and "Traceback" not in error


def test_a_flag_wins_over_a_bad_variable_and_other_commands_ignore_it(monkeypatch, capsys):
    monkeypatch.setenv("KATIB_SUGGEST_PORT", "abc")
    monkeypatch.setenv("KATIB_SUGGEST_BACKEND", "Optuna")
    args = build_parser().parse_args(["serve", "--port", "7000"])
    assert (args.port, args.backend) == (7000, "optuna")
    assert main(["validate", str(ROOT / "examples" / "run-branin.yaml")]) == 0


def test_log_levels_are_accepted_in_any_case(monkeypatch):
    monkeypatch.setenv("KATIB_SUGGEST_LOG_LEVEL", "debug")
    assert build_parser().parse_args(["validate", "x.yaml"]).log_level == "DEBUG"
    assert build_parser().parse_args(["--log-level", "warn", "validate", "x.yaml"]).log_level == "WARNING"
    monkeypatch.delenv("KATIB_SUGGEST_LOG_LEVEL")
    assert build_parser().parse_args(["validate", "x.yaml"]).log_level is None  # each command picks its default


def test_numbers_from_the_environment_are_typed(monkeypatch):
    monkeypatch.setenv("KATIB_SUGGEST_BACKEND", "skopt")
    monkeypatch.setenv("KATIB_SUGGEST_PORT", "6790")
    monkeypatch.setenv("KATIB_SUGGEST_METRICS_PORT", "")
    monkeypatch.setenv("KATIB_SUGGEST_GRACE_PERIOD", "2.5")
    args = build_parser().parse_args(["serve"])
    assert (args.backend, args.port, args.metrics_port, args.grace_period) == ("skopt", 6790, None, 2.5)


def test_json_log_times_are_iso_8601_utc():
    record = logging.LogRecord("katib_suggestion.service", logging.INFO, __file__, 1, "call", (), None)
    record.created = 1_795_991_613.508  # 2026-11-29 22:33:33.508 UTC
    assert json.loads(_json_formatter().format(record))["time"] == "2026-11-29T22:33:33.508Z"


def test_run_flags_are_checked(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "x.yaml", "--trial-timeout", "0"])
    assert re.search(r"argument --trial-timeout: '0' is not a number of seconds > 0", capsys.readouterr().err)
