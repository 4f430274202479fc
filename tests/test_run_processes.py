"""`katib-suggest run` with real trial processes: process groups, timeouts, Ctrl-C and SIGTERM.

Trials run a script through ``bash -c "python3 trial.py ...; echo finished"``, as many
Experiment templates do, so the script is a grandchild of the run. Every script records
its process group; after the run no process of any of those groups may be left.
"""

from __future__ import annotations

import csv
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from katib_suggestion.cli import main
from servers import katib_suggest

# Records its pid and process group; the first QUICK trials succeed at once, the others sleep
# (ignoring SIGTERM when IGNORE_TERM is set) until they are ended.
TRIAL = """
import os, pathlib, signal, sys, time
root = pathlib.Path(os.environ["ROOT"])
for folder in ("pids", "done", "long"):
    (root / folder).mkdir(exist_ok=True)
(root / "pids" / str(os.getpid())).write_text(str(os.getpgid(0)))
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
for slot in range(int(os.environ.get("QUICK", "0"))):  # claimed atomically: exactly QUICK trials are quick
    try:
        os.close(os.open(root / "done" / str(slot), os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        continue
    print("loss=" + sys.argv[1])
    sys.exit(0)
(root / "long" / str(os.getpid())).touch()
time.sleep(300)
"""


def _experiment(tmp_path: Path, shell: str, *, quick: int = 0, ignore_term: bool = False, **spec) -> Path:
    script = tmp_path / "trial.py"
    script.write_text(TRIAL)
    env = [{"name": "ROOT", "value": str(tmp_path)}, {"name": "QUICK", "value": str(quick)}]
    if ignore_term:
        env.append({"name": "IGNORE_TERM", "value": "1"})
    command = shell.format(python=sys.executable, script=script)
    doc = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "groups"}, "spec": {
        "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "4"}]},
        "parallelTrialCount": 2, "maxTrialCount": 6, "maxFailedTrialCount": 6,
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"primaryContainerName": "main", "trialParameters": [{"name": "x", "reference": "x"}],
                          "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {
                              "metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
                              "spec": {"containers": [
                                  {"name": "main", "command": ["bash", "-c", command], "env": env}]}}}}},
        **spec}}
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


WRAPPED = "{python} {script} ${{trialParameters.x}}; echo finished"


def _groups(tmp_path: Path) -> set[int]:
    return {int(p.read_text()) for p in (tmp_path / "pids").iterdir()}


def _alive_in(groups: set[int]) -> list[str]:
    """Processes (not zombies) of these process groups, from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended while we looked
        state, _ppid, pgrp = text.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) in groups and state != "Z":
            alive.append(text[:80])
    return alive


def _all_gone(groups: set[int]) -> bool:
    """No process of these groups is left, once the kernel has finished the ones just killed (bounded)."""
    deadline = time.monotonic() + 10
    while _alive_in(groups) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive_in(groups)


def _rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / "trials.csv").open()))


def _wait_for(condition, what: str, process: subprocess.Popen, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"run ended before {what}: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no {what} within {limit} s: {process.communicate()}")
        time.sleep(0.1)


def _long_running(tmp_path: Path, count: int):
    return lambda: (tmp_path / "long").is_dir() and len(list((tmp_path / "long").iterdir())) >= count


def test_timed_out_trials_end_with_their_whole_process_group(tmp_path, capsys):
    """Trials that ignore SIGTERM, under bash: the timeout ends the tree (KILL after the grace period)."""
    path = _experiment(tmp_path, WRAPPED, ignore_term=True, maxTrialCount=2, maxFailedTrialCount=2)
    status = main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plot", "--trial-timeout", "1",
                   "--grace-period", "0.5"])
    printed = capsys.readouterr().out
    assert status == 1, printed
    assert "Experiment groups Failed: 2 trials failed, maxFailedTrialCount is 2" in printed
    assert [r["message"] for r in _rows(tmp_path / "out")] == ["timed out after 1 s"] * 2
    assert len(_groups(tmp_path)) == 2 and _all_gone(_groups(tmp_path))


def test_what_a_finished_script_left_behind_is_ended_and_not_waited_for(tmp_path, capsys, monkeypatch):
    # the background sleep keeps no pipe open (output goes to files) and dies with its trial
    background = ("echo $$ > {script}.group; echo grpc=${{GRPC_VERBOSITY:-unset}}; sleep 300 & "
                  "echo x=${{trialParameters.x}} loss=0.25")
    path = _experiment(tmp_path, background, maxTrialCount=1, parallelTrialCount=1, maxFailedTrialCount=1)
    monkeypatch.delenv("GRPC_VERBOSITY", raising=False)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plot"]) == 0
    assert "1 trials finished (1 succeeded, 0 failed)" in capsys.readouterr().out
    group = int((tmp_path / "trial.py.group").read_text())
    assert _all_gone({group})
    # the run silences gRPC's C core for itself only: a trial that uses gRPC keeps its logs
    log = next((tmp_path / "out" / "trials").glob("*.log")).read_text()
    assert "grpc=unset" in log


def test_reaching_the_goal_ends_the_trials_still_running(tmp_path, capsys):
    path = _experiment(tmp_path, WRAPPED, quick=1, objective={"type": "minimize", "objectiveMetricName": "loss",
                                                              "goal": 1.0})
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plot", "--grace-period", "5"]) == 0
    printed = capsys.readouterr().out
    assert ("Experiment groups Succeeded: the objective goal was reached; 1 trials finished "
            "(1 succeeded, 0 failed), 1 stopped") in printed
    rows = _rows(tmp_path / "out")
    assert [(r["status"], r["message"]) for r in rows] == [
        ("Succeeded", ""), ("Killed", "ended with the experiment (Succeeded)")]
    assert _all_gone(_groups(tmp_path))


# a line of gRPC's C core ("I1130 04:28:08.419121 7191 chttp2_transport.cc:1403] ... Got goaway"), printed
# when the core initialises again late in the run if GRPC_VERBOSITY was unset by then
_GRPC_CORE_LOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d", re.MULTILINE)


def _start_run(tmp_path: Path, path: Path, *flags: str) -> subprocess.Popen:
    err = (tmp_path / "stderr.txt").open("w")
    return subprocess.Popen([katib_suggest(), "run", str(path), "--out", str(tmp_path / "out"), "--no-plot", *flags],
                            stdout=subprocess.PIPE, stderr=err, text=True)


def test_ctrl_c_ends_running_trials_and_keeps_the_results(tmp_path):
    path = _experiment(tmp_path, WRAPPED, quick=2)
    run = _start_run(tmp_path, path, "--grace-period", "5")
    _wait_for(_long_running(tmp_path, 2), "two long trials", run)
    run.send_signal(signal.SIGINT)
    stdout, _ = run.communicate(timeout=60)
    stderr = (tmp_path / "stderr.txt").read_text()
    assert run.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "no new trials; ending 2 running trial(s)" in stderr
    assert not _GRPC_CORE_LOG.search(stderr), stderr
    rows = _rows(tmp_path / "out")
    assert [r["status"] for r in rows] == ["Succeeded"] * 2 + ["Killed"] * 2
    assert {r["message"] for r in rows[2:]} == {"interrupted by Ctrl-C (SIGINT)"}
    assert ("Experiment groups Interrupted: stopped by Ctrl-C (SIGINT); 2 trials finished "
            "(2 succeeded, 0 failed), 2 interrupted") in stdout
    assert "Best trial groups-" in stdout
    assert _all_gone(_groups(tmp_path))


def test_sigterm_stops_the_run_like_ctrl_c(tmp_path):
    path = _experiment(tmp_path, WRAPPED)
    run = _start_run(tmp_path, path)
    _wait_for(_long_running(tmp_path, 2), "two long trials", run)
    run.send_signal(signal.SIGTERM)
    stdout, _ = run.communicate(timeout=60)
    assert run.returncode == 130, stdout
    assert not _GRPC_CORE_LOG.search((tmp_path / "stderr.txt").read_text())
    assert "Interrupted: stopped by SIGTERM; 0 trials finished (0 succeeded, 0 failed), 2 interrupted" in stdout
    assert [r["status"] for r in _rows(tmp_path / "out")] == ["Killed"] * 2
    assert _all_gone(_groups(tmp_path))


def test_a_second_ctrl_c_ends_at_once(tmp_path):
    """Trials ignore SIGTERM and the grace period is long: only the second Ctrl-C can end this run soon."""
    path = _experiment(tmp_path, WRAPPED, ignore_term=True)
    run = _start_run(tmp_path, path, "--grace-period", "600")
    _wait_for(_long_running(tmp_path, 2), "two long trials", run)
    run.send_signal(signal.SIGINT)
    _wait_for(lambda: "no new trials" in (tmp_path / "stderr.txt").read_text(), "the first Ctrl-C's message", run)
    run.send_signal(signal.SIGINT)
    stdout, _ = run.communicate(timeout=60)
    assert run.returncode == 130
    assert "Ctrl-C (SIGINT) again: ending now, without results" in (tmp_path / "stderr.txt").read_text()
    assert stdout == "" and not (tmp_path / "out" / "trials.csv").exists()
    assert _all_gone(_groups(tmp_path))


def test_an_unreachable_server_fails_at_once_without_a_traceback(tmp_path, capsys):
    path = _experiment(tmp_path, WRAPPED)
    assert main(["run", str(path), "--address", "127.0.0.1:1", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "no suggestion server answers at 127.0.0.1:1 (UNAVAILABLE" in error and "Traceback" not in error
    assert not (tmp_path / "pids").exists(), "no trial may start"


def test_katib_end_rules_for_failed_trials():
    from katib_suggestion.local.driver import too_many_failures

    # Katib: Failed as soon as failed >= maxFailedTrialCount, once at least one trial failed
    cases = {(0, 0): False, (1, 0): True, (2, 3): False, (3, 3): True, (4, 3): True, (9, None): False}
    assert {case: too_many_failures(*case) for case in cases} == cases
