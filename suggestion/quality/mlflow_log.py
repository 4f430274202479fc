"""Log a benchmark to MLflow: one parent run, a nested run per (algorithm, problem, seed), the report."""

from __future__ import annotations

from pathlib import Path

from katib_suggestion.quality.runner import RunResult
from katib_suggestion.quality.scoring import Scores, regret_curve

EXPERIMENT = "katib-suggest-quality"


def default_uri(out: Path) -> str:
    return f"sqlite:///{out.resolve() / 'mlflow.db'}"


def log_benchmark(uri: str, out: Path, suite: str, results: list[RunResult], failed: bool) -> str:
    """The parent run's id; artifacts go under ``out/mlartifacts``, never into ./mlruns."""
    try:
        import mlflow
    except ImportError as error:
        raise SystemExit("--mlflow needs MLflow: pip install 'katib-suggest[mlflow]'") from error
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = found.experiment_id if found else client.create_experiment(
        EXPERIMENT, artifact_location=(out.resolve() / "mlartifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"quality-{suite}") as parent:
        mlflow.log_params({"suite": suite, "runs": len(results)})
        mlflow.log_metric("gate_failed", float(failed))
        for result in results:
            _log_run(client, experiment_id, parent.info.run_id, result)
        mlflow.log_artifacts(str(out / "report"), artifact_path="report")
        return parent.info.run_id


def _log_run(client, experiment_id: str, parent_id: str, result: RunResult) -> None:
    from mlflow.entities import Metric, Param

    task = result.task
    run = client.create_run(experiment_id, run_name=f"{task.cell}/{task.arm}/{task.seed}",
                            tags={"mlflow.parentRunId": parent_id})
    curve = regret_curve(task.problem, result.losses, task.budget)
    scores = Scores.of(curve)
    # one batch per run: a request per metric point would dominate the benchmark's time
    metrics = [Metric("regret", value, 0, step) for step, value in enumerate(curve, 1)]
    metrics += [Metric("final_regret", scores.final, 0, 0), Metric("auc_regret", scores.auc, 0, 0),
                Metric("seconds", result.seconds, 0, 0), Metric("degraded", result.degraded, 0, 0)]
    if result.repeated is not None:
        metrics.append(Metric("repeated", result.repeated, 0, 0))
    params = [("backend", task.backend), ("algorithm", task.algorithm), ("problem", task.problem),
              ("seed", str(task.seed)), ("budget", str(task.budget)), ("parallel", str(task.parallel)),
              ("arm", task.arm)]
    client.log_batch(run.info.run_id, metrics=metrics, params=[Param(k, v) for k, v in params])
    client.set_terminated(run.info.run_id)
