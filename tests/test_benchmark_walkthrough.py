"""`katib-suggest benchmark`: one Ctrl-C stops it within seconds and leaves nothing running, missing backends are
found before the first run, the baselines ship with the package, a plugin's reference arm (issue 24, items 7-10)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from katib_suggestion.cli import main
from katib_suggestion.quality.inputs import default_baseline
from servers import katib_suggest
from test_plugins import GOOD, install_fake

pytest.importorskip("scipy")
ROOT = Path(__file__).resolve().parents[1]
QUIET = ["--log-level", "ERROR", "benchmark"]
# hyperopt's tpe: a second or more per run, so a Ctrl-C lands while most runs are still to come
SLOW = ["--backend", "hyperopt", "--algorithms", "tpe", "--problems", "branin", "--seeds", "16",
        "--no-reference", "--workers", "2"]


def _group(pgid: int) -> list[str]:
    """Processes of the group that are still running (zombies waiting for a reaper do not count)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state, _parent, group = text.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state != "Z":
            try:
                alive.append(stat.with_name("cmdline").read_bytes().replace(b"\0", b" ").decode()[:200])
            except OSError:
                continue
    return alive


def _journaled(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def test_one_ctrl_c_stops_every_worker_keeps_finished_runs_and_resumes(tmp_path):
    out, journal = tmp_path / "out", tmp_path / "out" / "runs.jsonl"
    argv = [katib_suggest(), *QUIET, *SLOW, "--out", str(out), "--write-baseline", str(tmp_path / "b.json")]
    # a session of its own with SIGINT at its default, as a terminal's foreground job has it
    run = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while _journaled(journal) < 1 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.1)
    assert run.poll() is None and _journaled(journal) >= 1, run.communicate()
    workers = [line for line in _group(run.pid) if "spawn_main" in line]
    assert len(workers) == 2, workers
    os.killpg(run.pid, signal.SIGINT)  # what the terminal does: the whole foreground group gets it
    try:
        _, err = run.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        raise AssertionError("one Ctrl-C did not end the benchmark within 60 s") from None
    assert run.returncode == 130, err
    kept = _journaled(journal)
    assert (f"katib-suggest benchmark: interrupted: {kept} of 16 runs finished and are kept in {journal}; every "
            "worker was stopped. Run the same command with --resume to run the rest.") in err
    assert "Traceback" not in err and kept < 16
    deadline = time.monotonic() + 10  # the kernel finishes what was killed
    while _group(run.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group(run.pid), _group(run.pid)
    resumed = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {kept} of 16 runs are in {journal}" in resumed.stderr
    assert _journaled(journal) == 16 and len(json.loads((tmp_path / "b.json").read_text())["cells"]) == 1


def test_a_backend_not_installed_is_skipped_or_refused_before_any_run(tmp_path, capsys, monkeypatch):
    from katib_suggestion import registry

    monkeypatch.setattr(registry, "missing_libraries", lambda name: ["hyperopt"] if name == "hyperopt" else [])
    out = tmp_path / "out"
    assert main([*QUIET, "--backend", "hyperopt", "--problems", "branin", "--seeds", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert ("--backend hyperopt: the hyperopt backend is not installed here (it needs hyperopt; pip install "
            "'katib-suggest[hyperopt]')") in err
    assert not (out / "runs.jsonl").exists()
    # every backend by default: the missing one is left out with a note, the others run
    status = main([*QUIET, "--algorithms", "random", "--problems", "branin", "--seeds", "1", "--workers", "1",
                   "--no-reference", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "katib-suggest benchmark: skipped hyperopt: the hyperopt backend is not installed here" in captured.err
    assert "katib-suggest benchmark: the optuna backend serves random" in captured.err
    ran = {json.loads(line)["task"]["backend"] for line in (out / "runs.jsonl").read_text().splitlines()}
    assert ran == {"optuna"}
    assert "skipped hyperopt: the hyperopt backend is not installed" in (out / "report" / "report.md").read_text()


def test_the_baselines_ship_inside_the_package(tmp_path, capsys, monkeypatch):
    assert default_baseline("quick").is_file() and default_baseline("full").is_file()
    assert "katib_suggestion" in str(default_baseline("quick")) or "suggestion" in default_baseline("quick").parts
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--no-index", "-w", str(tmp_path / "wheel"), str(ROOT)], capture_output=True, text=True,
                           timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "wheel").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"katib_suggestion/quality/baselines/quick.json", "katib_suggestion/quality/baselines/full.json"} <= \
        set(names)
    monkeypatch.chdir(tmp_path)  # far from any checkout
    argv = [*QUIET, "--backend", "optuna", "--algorithms", "random", "--problems", "branin", "--seeds", "2",
            "--workers", "1", "--no-reference", "--out", "out"]
    assert main(argv) == 0
    assert f"baseline: {default_baseline('quick')}" in capsys.readouterr().out


RANDOM_WALK = """
import random
from katib_suggestion.plugin import Proposal

class Walk:
    def suggest(self, request):
        rng, space = random.Random(request.seed), request.experiment.space
        return Proposal([space.from_unit([rng.random() for _ in space]) for _ in range(request.count)])

BACKEND = Walk()
"""


def test_a_plugin_without_a_reference_arm_runs_without_one_and_the_report_says_so(tmp_path):
    install_fake(tmp_path, "walker-plugin", "walker", GOOD + RANDOM_WALK)  # installed: found through sys.path
    out = tmp_path / "out"
    result = subprocess.run([katib_suggest(), *QUIET, "--backend", "walker", "--problems", "branin", "--seeds", "2",
                             "--workers", "1", "--out", str(out)], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "katib-suggest benchmark: the walker backend serves walk" in result.stderr
    runs = [json.loads(line)["task"] for line in (out / "runs.jsonl").read_text().splitlines()]
    assert {(r["backend"], r["arm"]) for r in runs} == {("walker", "ours")} and len(runs) == 2
    assert ("skipped walker/walk/* (reference): the walker backend declares no reference arm "
            "(BackendPlugin.reference), so its cells have none") in (out / "report" / "report.md").read_text()
