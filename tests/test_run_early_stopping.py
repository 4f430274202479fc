"""katib-suggest run applies spec.earlyStopping as Katib's collector does: rules, process group ended, EarlyStopped."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import yaml
from katib_suggestion.cli import main
from katib_suggestion.local.process import Collector
from katib_suggestion.local.stopping import LocalStopping
from katib_suggestion.stopping.rules import Comparison, CurveState

# The trial's place in the run (a counter file; one trial at a time) decides its curve, so the
# outcome does not depend on which points the algorithm picks: trials 1, 2 and 4 learn (loss 1/epoch)
# and finish; trial 3 is poor (10 + 1/epoch) and, after 3 epochs, waits up to 60 s: only its
# early-stopping rule ends it quickly.
TRAIN = """
import sys, time
from pathlib import Path
counter = Path("counter")
place = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(place))
offset = 10.0 if place == 3 else 0.0
for epoch in range(1, 7):
    print(f"epoch={epoch} loss={offset + 1.0 / epoch:.4f}", flush=True)
    if offset and epoch == 3:
        time.sleep(60)
"""


def _experiment(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(TRAIN)
    path = tmp_path / "es.yaml"
    assert main(["init", "--name", "es-local", "--image", "python:3.11-slim", "--command",
                 f"{sys.executable} train.py", "--param", "lr=double:0.01:1", "--minimize", "loss",
                 "--max-trials", "4", "--parallel", "1", "--early-stopping", "medianstop",
                 "--early-stopping-setting", "min_trials_required=2", "--early-stopping-setting", "start_step=3",
                 "--no-input", "-o", str(path)]) == 0
    return path


def test_a_poor_trial_is_stopped_recorded_and_its_slot_freed(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["--log-level", "WARNING", "run", str(_experiment(tmp_path)), "--cwd", str(tmp_path),
                   "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "4 trials finished (3 succeeded, 1 early stopped, 0 failed)" in printed
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert [r["status"] for r in rows] == ["Succeeded", "Succeeded", "EarlyStopped", "Succeeded"]
    stopped = rows[2]
    assert float(stopped["objective"]) == 10.3333  # the best it reported before the rule stopped it
    assert stopped["message"] == "early stopped: every early-stopping rule was met"
    log = (out / "trials" / f"{stopped['trial']}.log").read_text()
    assert "epoch=3 loss=10.3333" in log and "epoch=4" not in log
    assert (out / "convergence.png").stat().st_size > 0


def _stopping(min_trials: int = 1) -> LocalStopping:
    spec = yaml.safe_load(f"""
objective: {{type: maximize, objectiveMetricName: acc}}
earlyStopping:
  algorithmName: medianstop
  algorithmSettings: [{{name: min_trials_required, value: "{min_trials}"}}, {{name: start_step, value: "2"}}]
""")
    return LocalStopping(spec, Collector.of(spec))


def test_the_watch_reads_whole_lines_as_they_grow(tmp_path):
    stopping = _stopping()
    stopping.record("done", [0.8, 0.9, 0.95], CurveState.SUCCEEDED)
    watch = stopping.watch("new")
    [rule] = watch.rules
    assert (rule.threshold, rule.comparison, rule.start_step) == (0.8500000000000001, Comparison.LESS, 2)
    stdout = tmp_path / "new.stdout"
    stdout.write_text("")
    check = watch.follow(stdout)
    assert check() is False
    with stdout.open("a") as stream:
        stream.write("acc=0.1\nacc=0.")  # the second report is still being written
    assert check() is False
    with stdout.open("a") as stream:
        stream.write("2\n")
    assert check() is True  # best so far 0.2 < 0.85 at report 2
    watch.ended([0.1, 0.2], "EarlyStopped")
    assert [r.start_step for r in stopping.rules()] == [2]


def test_no_rule_before_enough_trials_completed():
    stopping = _stopping(min_trials=2)
    stopping.record("done", [0.8, 0.9], CurveState.SUCCEEDED)
    watch = stopping.watch("new")
    assert watch.rules == []
