"""`katib-suggest benchmark` options: input checks first, parallelism, any server by address, --compare, degraded."""

from __future__ import annotations

import importlib
import json
import os
import random
from pathlib import Path

import pytest
from katib_suggestion.blas_threads import ONE_BLAS_THREAD
from katib_suggestion.cli import main
from katib_suggestion.model import Proposal
from katib_suggestion.pipeline import FALLBACK_LABEL
from katib_suggestion.quality import baseline as baselines
from katib_suggestion.quality.external import server_problems
from katib_suggestion.quality.latency import free_port
from katib_suggestion.quality.runner import DEGRADED_LABEL, Task, is_degraded, run_one
from servers import in_process_server, katib_suggest

pytest.importorskip("scipy")
QUIET = ["--log-level", "ERROR", "benchmark"]
SMALL = ["--backend", "optuna", "--algorithms", "random", "--problems", "branin", "--seeds", "2", "--workers", "1"]


def _refused(capsys, argv: list[str]) -> str:
    assert main([*QUIET, *argv]) == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--baseline", "no/such/baseline.json"], "baseline: no/such/baseline.json does not exist (pass --baseline "
                                              "PATH"),
    (["--problems", "branin,nope"], "--problems: unknown nope; choose from branin,"),
    (["--algorithms", "tpee"], "--algorithms: unknown tpee; choose from"),
    (["--parallel", "0,4"], "--parallel: 0 is not a positive number of parallel trials"),
    (["--seeds", "0"], "--seeds: 0 runs no seed"),
    (["--settings", "gamma"], "--settings: 'gamma' is not NAME=VALUE"),
    (["--address", "127.0.0.1:1"], "--address needs --algorithm NAME"),
    (["--algorithm", "tpe"], "--algorithm: tpe is served by several backends; add --backend optuna or "
                             "--backend hyperopt"),
    (["--algorithm", "hyperband"], "--algorithm: unknown algorithm 'hyperband'; choose one of"),
    (["--compare", "a", "b"], "--compare: a/results.json does not exist"),
    (["--write-baseline", "."], "--write-baseline: . is a folder; give a file name such as quick.json"),
])
def test_bad_inputs_are_refused_before_any_run(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # outside the repository: nothing may depend on the working directory
    assert message in _refused(capsys, [*argv, "--out", "out"])
    assert not (tmp_path / "out" / "results.json").exists()


def test_an_output_folder_that_cannot_be_written_is_refused_first(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert f"--out: cannot write to {blocker}" in _refused(capsys, [*SMALL, "--out", str(blocker)])


def test_a_baseline_of_another_suite_is_not_updated(tmp_path, capsys):
    other = tmp_path / "full.json"
    baselines.save(other, baselines.document("full", {}, "test", 1.0))
    err = _refused(capsys, [*SMALL, "--update-baseline", str(other), "--out", str(tmp_path)])
    assert f"--update-baseline: {other} is a full baseline; run --suite full or choose another file" in err


def test_every_problem_is_listed_at_once(tmp_path, capsys):
    err = _refused(capsys, ["--problems", "nope", "--seeds", "0", "--out", str(tmp_path), "--baseline", "x.json"])
    assert "--problems: unknown nope" in err and "--seeds: 0" in err and "baseline: x.json does not exist" in err


def test_parallelism_is_a_cell_dimension_with_a_penalty_table(tmp_path, capsys):
    status = main([*QUIET, *SMALL, "--parallel", "1,4", "--out", str(tmp_path)])
    output = capsys.readouterr().out
    assert status == 0, output
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["cells"]) == set(results["reference"]) == {"optuna/random/branin/p1", "optuna/random/branin/p4"}
    assert [results["cells"][f"optuna/random/branin/p{p}"]["parallel"] for p in (1, 4)] == [1, 4]
    assert "## Parallel penalty" in output
    for parallel in (1, 4):  # issue 12's table: ours against the reference, one per parallelism
        table = output.split(f"## Against the reference arms at parallelism {parallel} ")[1].split("##")[0]
        rows = [line for line in table.splitlines() if line.startswith("| optuna/random | branin | ")]
        assert [row.split(" | ")[2] for row in rows] == [str(parallel)]
    row = next(line for line in output.splitlines() if line.startswith("| optuna/random | branin | ")
               and "(x" in line)
    assert len(row.split("|")) == 2 + 2 + 4  # algorithm, problem, ours p1, p4, reference p1, p4
    assert "--parallel 1,4" in results["produced_by"][0]["command"]


def test_other_servers_are_benchmarked_like_ours_and_compared(tmp_path, capsys):
    """A server of ours at an address, or started per run from a command, gives the cells fresh servers give."""
    local, remote, started = tmp_path / "local", tmp_path / "remote", tmp_path / "started"
    subset = ["--problems", "branin", "--seeds", "2", "--workers", "1", "--no-reference"]
    assert main([*QUIET, "--backend", "optuna", "--algorithms", "tpe", *subset, "--out", str(local)]) == 0
    with in_process_server("optuna") as (address, _):
        assert main([*QUIET, "--address", address, "--algorithm", "optuna-tpe", *subset, "--out", str(remote)]) == 0
    command = f"{katib_suggest()} serve --backend optuna --host 127.0.0.1 --port {{port}} --drain-period 0"
    assert main([*QUIET, "--server-command", command, "--algorithm", "optuna-tpe", *subset[:2], "--seeds", "1",
                 "--no-reference", "--out", str(started)]) == 0
    capsys.readouterr()
    mine, theirs, per_run = (json.loads((folder / "results.json").read_text())["cells"]["optuna/tpe/branin/p4"]
                             for folder in (local, remote, started))
    assert mine["losses"] == theirs["losses"] and per_run["losses"] == mine["losses"][:1]
    assert json.loads((remote / "results.json").read_text())["produced_by"][0]["server"] == \
        f"{address} (optuna-tpe)"
    assert main([*QUIET, "--compare", str(local), str(remote), "--out", str(tmp_path / "cmp")]) == 0
    output = capsys.readouterr().out
    assert "| optuna/tpe | branin | 4 |" in output and "| identical |" in output


def test_a_server_command_that_fails_is_reported_before_the_runs(tmp_path, capsys):
    err = _refused(capsys, ["--server-command", "sh -c 'echo no image here; exit 3' {port}", "--algorithm",
                            "optuna-tpe", "--problems", "branin", "--out", str(tmp_path)])
    assert "--server-command: the server command exited with status 3: no image here" in err
    err = _refused(capsys, ["--server-command", "serve", "--algorithm", "optuna-tpe", "--out", str(tmp_path)])
    assert "--server-command: write {port} where the command takes the port" in err


def test_a_server_that_rejects_the_settings_stops_the_benchmark_before_it_runs(tmp_path, capsys):
    with in_process_server("hyperopt") as (address, _):
        err = _refused(capsys, ["--address", address, "--algorithm", "hyperopt-tpe", "--problems", "branin",
                                "--settings", "bogus=1", "--out", str(tmp_path)])
    assert f"--address: {address} rejects hyperopt/tpe/branin/p4" in err and "bogus" in err
    assert "--settings NAME=VALUE, or NAME= to leave a setting out" in err


def test_nothing_listening_at_the_address_is_reported():
    address = f"127.0.0.1:{free_port()}"
    task = Task("optuna", "tpe", "branin", 0, 20, address=address, name="tpe")
    assert server_problems(address, [task], timeout=0.5) == [
        f"--address: nothing answers at {address} after 0 s; check HOST:PORT "
        "(e.g. kubectl port-forward svc/NAME 6789:6789)"]


def _results(path: Path, values: list[float]) -> None:
    cell = {"seeds": list(range(len(values))), "losses": [f"{v}" for v in values], "final": values, "auc": values,
            "curve": [1.0], "budget": 20, "parallel": 4, "degraded": [0] * len(values)}
    baselines.save(path / "results.json", baselines.document("quick", {"optuna/tpe/branin/p4": cell}, "test", 1.0))


def test_compare_fails_when_the_later_folder_is_significantly_worse(tmp_path, capsys):
    rng = random.Random(0)
    before = [rng.uniform(0.05, 0.2) for _ in range(8)]
    _results(tmp_path / "before", before)
    _results(tmp_path / "after", [v + 0.3 for v in before])
    status = main([*QUIET, "--compare", str(tmp_path / "before"), str(tmp_path / "after"),
                   "--out", str(tmp_path / "cmp")])
    output = capsys.readouterr().out
    assert status == 1
    assert "| optuna/tpe | branin | 4 |" in output and "| WORSE |" in output
    assert "worse than the before: optuna/tpe/branin/p4" in (tmp_path / "cmp" / "report" / "report.md").read_text()
    assert main([*QUIET, "--compare", str(tmp_path / "after"), str(tmp_path / "before"),
                 "--out", str(tmp_path / "cmp")]) == 0
    assert "| better |" in capsys.readouterr().out


class LabellingBackend:
    """Random points, every answer labelled degraded, as the skopt backend does past its time budget."""

    def suggest(self, request):
        rng = random.Random(request.seed)
        points = [{p.name: p.from_unit(rng.random()) for p in request.experiment.space} for _ in range(request.count)]
        return Proposal(points, {DEGRADED_LABEL: "deadline"})


def test_degraded_answers_are_counted_per_run(monkeypatch):
    monkeypatch.setattr(importlib.import_module("katib_suggestion.backends.optuna_backend"), "BACKEND",
                        LabellingBackend())
    result = run_one(Task("optuna", "random", "branin", 0, 12))
    assert result.degraded == 12


def test_degraded_labels_are_the_ones_the_server_sets():
    from katib_suggestion.backends.skopt_backend import DEGRADED_LABEL as SKOPT_LABEL

    assert DEGRADED_LABEL == SKOPT_LABEL
    assert is_degraded(FALLBACK_LABEL) and is_degraded({DEGRADED_LABEL: "history-window"})
    assert not is_degraded({"katib-suggest/origin": "model"})


def test_the_benchmark_asks_for_one_blas_thread_unless_told_otherwise(monkeypatch, tmp_path):
    """Set before numpy loads, so its servers and reference arms answer alike in every process."""
    for name in ONE_BLAS_THREAD:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    assert main([*QUIET, *SMALL, "--seeds", "1", "--no-reference", "--out", str(tmp_path)]) == 0
    assert [os.environ.get(name) for name in ONE_BLAS_THREAD] == ["1", "1", "3"]


def test_an_interrupted_benchmark_resumes_from_its_journal(tmp_path, capsys):
    argv = [*QUIET, *SMALL, "--no-reference", "--out", str(tmp_path)]
    assert main(argv) == 0
    first = json.loads((tmp_path / "results.json").read_text())["cells"]
    journal = tmp_path / "runs.jsonl"
    lines = journal.read_text().splitlines()
    assert len(lines) == 2
    journal.write_text(lines[0] + "\n" + lines[1][:40])  # killed while writing the second run
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    assert "resuming: 1 of 2 runs are in" in capsys.readouterr().err
    assert json.loads((tmp_path / "results.json").read_text())["cells"] == first
    assert len(journal.read_text().splitlines()) == 3  # the cut line stays, ignored; the rerun is appended
    baseline = tmp_path / "baseline.json"  # the baseline from the same runs: nothing runs again
    assert main([*argv, "--resume", "--write-baseline", str(baseline)]) == 0
    assert "resuming: 2 of 2 runs are in" in capsys.readouterr().err
    assert json.loads(baseline.read_text())["cells"] == first and len(journal.read_text().splitlines()) == 3
    # the runs' own seconds, from the journal: a resumed benchmark's work, not this last invocation's
    produced = json.loads(baseline.read_text())["produced_by"][0]
    runs = [json.loads(line) for line in journal.read_text().splitlines() if line.endswith("}")]
    assert produced["run_seconds"] == round(sum(run["seconds"] for run in runs), 1) > 0


class FailingBackend:
    """Breaks the experiment of seed 1 (every call fails with INTERNAL); the others get random points."""

    def suggest(self, request):
        if request.experiment.settings["random_state"] == 1:
            raise RuntimeError("broken on purpose")
        return LabellingBackend().suggest(request)


def test_a_failing_run_is_reported_and_the_others_are_kept_for_resume(monkeypatch, tmp_path, capsys):
    backends = importlib.import_module("katib_suggestion.backends.optuna_backend")
    monkeypatch.setattr(backends, "BACKEND", FailingBackend())
    argv = [*SMALL, "--no-reference", "--out", str(tmp_path)]
    err = _refused(capsys, argv)
    assert "run optuna/random/branin/p4 (ours) seed 1 failed: _InactiveRpcError: " in err
    assert f"1 finished runs are kept in {tmp_path / 'runs.jsonl'}" in err and "--resume" in err
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 1
    monkeypatch.undo()
    assert main([*QUIET, *argv, "--resume"]) == 0
    assert "resuming: 1 of 2 runs" in capsys.readouterr().err
