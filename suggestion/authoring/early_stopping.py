"""init's --early-stopping: a spec.earlyStopping block with every setting spelled out, checked like validate."""

from __future__ import annotations

from typing import Any

from katib_suggestion.authoring.inputs import name_values
from katib_validators.early_stopping import ALGORITHMS, SCHEMAS
from katib_validators.early_stopping_experiment import check_early_stopping

COMMENT = ("stops trials whose learning curve falls behind (served by katib-suggest's early-stopping image);\n"
           "the training must report the objective after every epoch or step (one NAME=VALUE line each),\n"
           f"algorithmName: {', '.join(ALGORITHMS)}")


def add_early_stopping(doc: dict[str, Any], algorithm: str | None, settings: list[str] | None) -> list[str]:
    """Put the block into ``doc`` (the defaults written out, ``NAME=VALUE`` settings over them);
    the problems, named by flag, when it would not be valid."""
    if algorithm is None:
        return ["--early-stopping-setting: give --early-stopping ALGORITHM too"] if settings else []
    schema = SCHEMAS.get(algorithm)
    if schema is None:
        return [f"--early-stopping: {algorithm!r} is not one of {', '.join(ALGORITHMS)}"]
    given, problems = name_values("--early-stopping-setting", settings or [], "start_step=5")
    values = {**{s.name: str(s.default) for s in schema.settings}, **given}
    doc["spec"]["earlyStopping"] = {"algorithmName": algorithm, "algorithmSettings": [
        {"name": name, "value": value} for name, value in values.items()]}
    errors, _warnings = check_early_stopping(doc)
    return problems + [f"--early-stopping: {problem}" for problem in errors]
