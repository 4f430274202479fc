"""A pinned corpus of GetSuggestions requests and the replies they got, to prove replay changes kept every answer.

The requests are stored as the bytes Katib would send (so the corpus does not
depend on this generator once written), the replies as their assignments,
labels and returned settings. Regenerate only on purpose, with the reason in
the commit: ``python tests/replay_corpus.py`` (writes CORPUS).
"""

from __future__ import annotations

import base64
import gzip
import json
import random
from pathlib import Path

from katib_api import api_pb2 as pb
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import load_backend
from katib_suggestion.testing.requests import FINITE_PARAMETERS, MIXED_PARAMETERS, NORMAL_PARAMETERS, experiment_doc
from katib_suggestion.wire import experiment_message

CORPUS = Path(__file__).parent / "data" / "replay-corpus.jsonl.gz"
Condition = pb.TrialStatus.TrialConditionType
FIXED = [{"name": "fixed", "parameterType": "int", "feasibleSpace": {"min": "3", "max": "3"}}]
# A log-scaled int, a list with numbers written two ways, a narrow stepped double: the parser's special cases.
ODD = [
    {"name": "units", "parameterType": "int",
     "feasibleSpace": {"min": "8", "max": "4096", "distribution": "logUniform"}},
    {"name": "ratio", "parameterType": "double", "feasibleSpace": {"min": "0.25", "max": "0.75", "step": "0.125"}},
    {"name": "decay", "parameterType": "discrete", "feasibleSpace": {"list": ["0.1", "0.5", "1e-3"]}},
    {"name": "bias", "parameterType": "double", "feasibleSpace": {"min": "-1", "max": "1"}},
]
SPACES = {"mixed": MIXED_PARAMETERS, "finite": FINITE_PARAMETERS, "normal": MIXED_PARAMETERS + NORMAL_PARAMETERS,
          "odd": ODD + FIXED}
# (backend, algorithm name, space, settings); every case runs at each (history size, count) below
CASES = [
    ("optuna", "tpe", "mixed", {}),
    ("optuna", "tpe", "odd", {"n_startup_trials": "5", "random_state": "3"}),
    ("optuna", "multivariate-tpe", "mixed", {"n_startup_trials": "5"}),
    ("optuna", "multivariate-tpe", "odd", {"random_state": "17"}),
    ("optuna", "random", "mixed", {}),
    ("optuna", "cmaes", "mixed", {"random_state": "5"}),
    ("optuna", "cmaes", "odd", {"restart_strategy": "ipop", "random_state": "9"}),
    ("optuna", "grid", "finite", {}),
    ("optuna", "sobol", "mixed", {}),
    ("hyperopt", "tpe", "normal", {}),
    ("hyperopt", "tpe", "odd", {"n_startup_jobs": "5", "random_state": "4"}),
    ("hyperopt", "random", "normal", {}),
    ("hyperopt", "anneal", "odd", {"random_state": "8"}),
]
SIZES = ((0, 1), (6, 4), (60, 1), (150, 4))
# condition of the generated trials, by weight; EARLYSTOPPED and SUCCEEDED carry the metric
CONDITIONS = ((Condition.SUCCEEDED, 70), (Condition.RUNNING, 6), (Condition.CREATED, 2), (Condition.FAILED, 6),
              (Condition.KILLED, 2), (Condition.EARLYSTOPPED, 8), (Condition.METRICSUNAVAILABLE, 2),
              (Condition.UNKNOWN, 1))


def _value_text(parameter: dict, rng: random.Random) -> str:
    """A feasible value written as Katib or a user might write it; now and then an infeasible one."""
    space = parameter["feasibleSpace"]
    if rng.random() < 0.01:
        return rng.choice(["", "nan", "1e999", "not-a-number"])
    if "list" in space:
        choice = rng.choice(space["list"])
        return {"0.1": "0.10", "1e-3": "0.001"}.get(choice, choice) if rng.random() < 0.3 else choice
    low, high = float(space["min"]), float(space["max"])
    if parameter["parameterType"] == "int":
        if space.get("distribution") == "logUniform":
            return str(round(low * (high / low) ** rng.random()))
        step = int(space.get("step", "1"))
        return str(int(low) + step * rng.randrange((int(high) - int(low)) // step + 1))
    if "step" in space:
        step = float(space["step"])
        return repr(low + step * rng.randrange(round((high - low) / step) + 1))
    if space.get("distribution") in ("logUniform", "logNormal"):
        return repr(low * (high / low) ** rng.random())
    return repr(rng.uniform(low, high))


def _trial(index: int, parameters: list[dict], rng: random.Random, maximize: bool) -> pb.Trial:
    trial = pb.Trial(name=f"corpus-{index}")
    for parameter in parameters:
        if rng.random() > 0.005:  # now and then a value is missing
            trial.spec.parameter_assignments.assignments.add(name=parameter["name"], value=_value_text(parameter, rng))
    if rng.random() < 0.02:  # or one the space does not have is there too
        trial.spec.parameter_assignments.assignments.add(name="retired", value="1")
    conditions, weights = zip(*CONDITIONS, strict=True)
    trial.status.condition = rng.choices(conditions, weights)[0]
    if trial.status.condition in (Condition.SUCCEEDED, Condition.EARLYSTOPPED):
        value = repr(rng.gauss(0, 1) * (1 if maximize else 2)) if rng.random() > 0.02 else "unavailable"
        trial.status.observation.metrics.add(name="other", value="1.0")
        trial.status.observation.metrics.add(name="loss", value=value)
    return trial


def request(case_index: int, history: int, count: int) -> pb.GetSuggestionsRequest:
    backend, algorithm, space, settings = CASES[case_index]
    rng = random.Random(f"{case_index}-{history}-{count}")
    maximize = rng.random() < 0.5
    doc = experiment_doc(algorithm, SPACES[space], settings, name=f"corpus-{case_index}", maximize=maximize,
                         max_trials=12 if space == "finite" else 1000, parallel=4)
    trials = [_trial(i, SPACES[space], rng, maximize) for i in range(history)]
    return pb.GetSuggestionsRequest(experiment=experiment_message(doc), trials=trials, current_request_number=count,
                                    total_request_number=history + count)


def reply_document(reply: pb.GetSuggestionsReply) -> dict:
    return {"assignments": [{a.name: a.value for a in p.assignments} for p in reply.parameter_assignments],
            "labels": [dict(p.labels) for p in reply.parameter_assignments],
            "settings": {s.name: s.value for s in reply.algorithm.algorithm_settings}}


def answer(backend: str, message: pb.GetSuggestionsRequest) -> dict:
    return reply_document(Suggester(backend, load_backend(backend)).suggest(message, {}))


def entries():
    for index, (backend, algorithm, space, _) in enumerate(CASES):
        for history, count in SIZES:
            if space == "finite" and history + count > 12:
                continue  # the space has 12 points
            yield f"{backend}-{algorithm}-{space}-{index}-n{history}-k{count}", backend, request(index, history, count)


def load() -> list[dict]:
    with gzip.open(CORPUS, "rt") as lines:
        return [json.loads(line) for line in lines]


def request_of(entry: dict) -> pb.GetSuggestionsRequest:
    return pb.GetSuggestionsRequest.FromString(base64.b64decode(entry["request"]))


def write() -> None:
    rows = [{"id": case_id, "backend": backend, "request": base64.b64encode(message.SerializeToString()).decode(),
             "reply": answer(backend, message)} for case_id, backend, message in entries()]
    with gzip.GzipFile(CORPUS, "wb", mtime=0) as out:
        out.write("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows).encode())
    print(f"{len(rows)} entries, {CORPUS.stat().st_size / 1024:.0f} KiB: {CORPUS}")


if __name__ == "__main__":
    write()
