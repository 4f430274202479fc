"""Questions `katib-suggest init` asks on a terminal for the required inputs not given, each answer checked at once."""

from __future__ import annotations

import shlex
from collections.abc import Callable

from katib_suggestion.authoring.inputs import Inputs, suggest_name
from katib_suggestion.authoring.params import ParamError, parse_param
from katib_validators.counts import check_name
from katib_validators.search_space import parse_search_space

Check = Callable[[str], str | None]  # answer -> what is wrong with it, or None
_MINIMIZED = ("loss", "error", "err", "mse", "rmse", "mae", "perplexity", "regret", "latency", "time", "cost")


class Aborted(Exception):
    """The terminal closed (end of input) before every required answer was given."""


class Asker:
    """Asks one question at a time on ``write`` and reads answers with ``read`` until one passes its check."""

    def __init__(self, read: Callable[[], str], write: Callable[[str], object]):
        self.read, self.write = read, write

    def __call__(self, question: str, check: Check, default: str | None = None, empty_ok: bool = False,
                 suggest: Callable[[str], str] | None = None) -> str:
        """The first answer ``check`` accepts; an empty answer takes ``default``, or "" when ``empty_ok``;
        after a wrong answer, ``suggest(answer)`` becomes the default."""
        while True:
            self.write(f"{question}{f' [{default}]' if default else ''}: ")
            try:
                answer = self.read().strip()
            except EOFError as error:
                raise Aborted(question) from error
            if not answer and default:
                answer = default
            if not answer and empty_ok:
                return ""
            problem = check(answer) if answer else "an answer is required"
            if problem is None:
                return answer
            self.write(f"  {problem}\n")
            if suggest is not None and answer:
                default = suggest(answer)


def ask_missing(inputs: Inputs, ask: Asker) -> None:
    """Fill every required input still missing in ``inputs``, in the order a user thinks of them."""
    missing = set(inputs.missing())
    if "name" in missing:
        inputs.name = ask("Experiment name (lowercase letters, digits, '-')", _name, suggest=suggest_name)
    if "image" in missing:
        inputs.image = ask("Training image (e.g. ghcr.io/you/train:1.0)", _one_word)
    if "command" in missing:
        inputs.command = shlex.split(ask("Training command (parameters are appended as --NAME=VALUE unless it says "
                                         "${trialParameters.NAME})", _command))
    if "parameters" in missing:
        _ask_parameters(inputs, ask)
    if "objective" in missing:
        inputs.objective = ask("Objective metric, as the training prints it in NAME=VALUE lines", _metric)
        guess = "minimize" if any(word in inputs.objective.lower() for word in _MINIMIZED) else "maximize"
        inputs.direction = ask("maximize or minimize", _direction, default=guess)


def _ask_parameters(inputs: Inputs, ask: Asker) -> None:
    while True:
        first = not inputs.parameters
        answer = ask("Parameter to tune (lr=double:1e-5:1e-1:log, layers=int:1:8, opt=categorical:adam,sgd"
                     f"{'' if first else '; empty line when done'})", _parameter(inputs), empty_ok=not first)
        if not answer:
            return
        inputs.parameters.append(parse_param(answer))


def _parameter(inputs: Inputs) -> Check:
    def check(answer: str) -> str | None:
        try:
            parameter = parse_param(answer)
        except ParamError as error:
            return str(error)
        if any(p.get("name") == parameter["name"] for p in inputs.parameters):
            return f"{parameter['name']} is already a parameter; choose another name"
        problems = parse_search_space([parameter])[1]
        return "; ".join(str(p).removeprefix("spec.parameters[0].") for p in problems) or None
    return check


def _name(answer: str) -> str | None:
    problems = check_name(answer)
    return f"{problems[0].message}; press Enter for the suggestion" if problems else None


def _one_word(answer: str) -> str | None:
    return "no spaces, please" if len(answer.split()) != 1 else None


def _command(answer: str) -> str | None:
    try:
        return None if shlex.split(answer) else "give the command that trains the model"
    except ValueError as error:
        return f"cannot split it into words: {error}"


def _metric(answer: str) -> str | None:
    return "one word without '=', e.g. accuracy" if len(answer.split()) != 1 or "=" in answer else None


def _direction(answer: str) -> str | None:
    return None if answer in ("maximize", "minimize") else "answer maximize or minimize"
