"""The gate's optional fan-out and logging: Ray on loopback, MLflow into a temporary SQLite store."""

from __future__ import annotations

import importlib.util
import json

import pytest
from katib_suggestion.cli import main
from katib_suggestion.quality.runner import execute
from katib_suggestion.quality.suite import SUITES, Selection, plan

SUBSET = ["--backend", "optuna", "--algorithms", "random,tpe", "--problems", "branin", "--seeds", "2",
          "--no-reference"]


def test_ray_runs_give_bit_identical_results_to_local_runs():
    pytest.importorskip("ray")
    tasks, _ = plan(SUITES["quick"], Selection(("optuna",), ("random", "tpe"), ("branin",), (0, 1)))
    local = execute(tasks, workers=1)
    # "local": a throwaway Ray instance on 127.0.0.1 (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0), shut down after
    remote = execute(tasks, workers=2, ray_address="local")
    assert [r.losses for r in remote] == [r.losses for r in local]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # SQLAlchemy deprecations inside MLflow
def test_mlflow_logs_every_run_metric_and_plot_under_the_output_folder(tmp_path, monkeypatch, capsys):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)  # anything written to ./mlruns would land here
    out = tmp_path / "out"
    baseline = tmp_path / "baseline.json"
    assert main(["benchmark", *SUBSET, "--workers", "1", "--out", str(out), "--write-baseline", str(baseline)]) == 0
    assert main(["benchmark", *SUBSET, "--workers", "1", "--out", str(out), "--baseline", str(baseline),
                 "--mlflow"]) == 0
    assert f"sqlite:///{out / 'mlflow.db'}" in capsys.readouterr().out
    mlflow.set_tracking_uri(f"sqlite:///{out / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["katib-suggest-quality"], output_format="list")
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(children) == 4 and len(runs) == 5
    assert {r.data.params["algorithm"] for r in children} == {"random", "tpe"}
    history = mlflow.MlflowClient().get_metric_history(children[0].info.run_id, "regret")
    assert len(history) == json.loads(baseline.read_text())["cells"]["optuna/random/branin/p4"]["budget"]
    artifacts = list((out / "mlartifacts").rglob("report.md"))
    assert artifacts and not (tmp_path / "mlruns").exists()
    if importlib.util.find_spec("matplotlib"):  # plots are optional (the bench extra)
        assert list((out / "mlartifacts").rglob("regret-branin-p4.png"))
