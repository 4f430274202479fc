"""What `katib-suggest init` is told, from a spec file and flags: read, merged and checked for form."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from katib_suggestion.authoring.params import ParamError, merge, params_from_spec, parse_param
from katib_suggestion.authoring.trial import COLLECTORS, TRIAL_KINDS
from katib_validators.counts import NAME_LIMIT
from katib_validators.spelling import did_you_mean

DEFAULT_ALGORITHM = "tpe"
DEFAULT_MAX_TRIALS = 12
# Kubernetes resource quantities: 2, 500m, 0.5, 4Gi, 512M, 1e3
_QUANTITY = re.compile(r"[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?")


class InputError(ValueError):
    """Inputs that cannot make an Experiment; ``args[0]`` lists 'where: what to do' lines."""


@dataclass
class Inputs:
    """Everything an Experiment is generated from; None means "not given" (a default or a prompt fills it)."""

    name: str | None = None
    namespace: str | None = None
    image: str | None = None
    command: list[str] | None = None
    gpus: int | None = None
    cpu: str | None = None
    memory: str | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    objective: str | None = None
    direction: str | None = None  # maximize | minimize
    goal: float | None = None
    metrics: list[str] = field(default_factory=list)
    algorithm: str = DEFAULT_ALGORITHM
    settings: dict[str, str] = field(default_factory=dict)
    parallel: int | None = None
    max_trials: int | None = None  # None: DEFAULT_MAX_TRIALS, or the space's size when that is smaller
    max_failed: int | None = None
    kind: str = "Job"
    workers: int = 0
    collector: str = "StdOut"
    metrics_path: str | None = None

    def missing(self) -> list[str]:
        """The required inputs not given yet, as field names."""
        return [name for name in REQUIRED if not getattr(self, name)]


REQUIRED = ("name", "image", "command", "parameters", "objective")
# field -> the flag that sets it (spec files use the same words, '-' or '_')
FLAGS = {"name": "--name", "namespace": "--namespace", "image": "--image", "command": "--command",
         "gpus": "--gpus", "cpu": "--cpu", "memory": "--memory", "parameters": "--param",
         "objective": "--maximize/--minimize", "goal": "--goal", "metrics": "--metric", "algorithm": "--algorithm",
         "settings": "--setting", "parallel": "--parallel", "max_trials": "--max-trials",
         "max_failed": "--max-failed", "kind": "--kind", "workers": "--workers", "collector": "--collector",
         "metrics_path": "--metrics-path"}
_INTS = ("gpus", "parallel", "max_trials", "max_failed", "workers")
_ALIASES = {"param": "parameters", "params": "parameters", "metric": "metrics", "setting": "settings"}


def from_spec(raw: Any, inputs: Inputs) -> list[str]:
    """Apply a spec file's mapping to ``inputs``; problems as 'key: what to do' lines."""
    if not isinstance(raw, Mapping):
        return ["the spec file must be a YAML mapping such as 'name: mnist' (see katib-suggest init --help)"]
    problems = []
    for key, value in raw.items():
        name = _ALIASES.get(str(key).replace("-", "_"), str(key).replace("-", "_"))
        try:
            if name in ("maximize", "minimize"):
                inputs.objective, inputs.direction = _text(value), name
            elif name in _SPEC_FIELDS:
                setattr(inputs, name, _convert(name, value))
            else:
                hint = did_you_mean(str(key), _spec_keys())
                problems.append(f"{key}: not an init input{hint}; use one of {', '.join(_spec_keys())}")
        except (InputError, ParamError) as error:
            problems.append(f"{key}: {error}")
    return problems


def from_flags(args: Any, inputs: Inputs) -> list[str]:
    """Apply the flags that were given (not None) over ``inputs``; problems as '--flag: what to do' lines."""
    problems = []
    for name in ("name", "namespace", "image", "cpu", "memory", "goal", "algorithm", "kind", "collector",
                 "metrics_path", *_INTS):
        if getattr(args, name, None) is not None:
            setattr(inputs, name, getattr(args, name))
    if args.train_command is not None:  # not args.command: that one names the subcommand
        try:
            inputs.command = _convert("command", args.train_command)
        except InputError as error:
            problems.append(f"--command: {error}")
    if args.maximize or args.minimize:
        inputs.objective, inputs.direction = (args.maximize, "maximize") if args.maximize else \
            (args.minimize, "minimize")
    inputs.metrics = args.metric if args.metric else inputs.metrics
    problems += _flag_params(args.param or [], inputs)
    given, bad = name_values("--setting", args.setting or [], "--setting random_state=7")
    inputs.settings.update(given)
    return problems + bad


def name_values(flag: str, texts: list[str], example: str) -> tuple[dict[str, str], list[str]]:
    """The ``NAME=VALUE`` items of a repeated flag, and a problem for each item that is not one."""
    values, problems = {}, []
    for text in texts:
        key, equals, value = text.partition("=")
        if not equals or not key.strip():
            problems.append(f"{flag} {text}: write NAME=VALUE, e.g. {example}")
        else:
            values[key.strip()] = value.strip()
    return values, problems


def _flag_params(texts: list[str], inputs: Inputs) -> list[str]:
    given, problems = [], []
    for text in texts:
        try:
            given.append(parse_param(text))
        except ParamError as error:
            problems.append(f"--param: {error}")
    names = [p["name"] for p in given]
    problems += [f"--param {name}: given twice; keep one" for name in sorted({n for n in names if names.count(n) > 1})]
    inputs.parameters = merge(inputs.parameters, given)  # over the spec file's, by name
    return problems


def check_form(inputs: Inputs) -> list[str]:
    """Problems the validators cannot see: they are in what becomes the trial's container and kind."""
    problems = []
    for name in ("cpu", "memory"):
        value = getattr(inputs, name)
        if value is not None and not _QUANTITY.fullmatch(str(value)):
            problems.append(f"{FLAGS[name]}: {value!r} is not a Kubernetes quantity; write e.g. "
                            f"{'2 or 500m' if name == 'cpu' else '4Gi or 512Mi'}")
    for name in ("gpus", "workers"):
        if (getattr(inputs, name) or 0) < 0:
            problems.append(f"{FLAGS[name]}: must be 0 or more")
    if inputs.kind not in TRIAL_KINDS:
        problems.append(f"--kind: {inputs.kind!r} is not one of {', '.join(TRIAL_KINDS)}")
    if inputs.collector not in COLLECTORS:
        problems.append(f"--collector: {inputs.collector!r} is not one of {', '.join(COLLECTORS)}")
    if inputs.metrics_path is not None and inputs.collector == "StdOut":
        problems.append("--metrics-path: only for --collector File or TensorFlowEvent")
    elif inputs.metrics_path is not None and not inputs.metrics_path.startswith("/"):
        problems.append(f"--metrics-path: must be an absolute path in the container (got {inputs.metrics_path!r})")
    if inputs.kind == "Job" and inputs.workers:
        problems.append("--workers: a Job runs one pod; use --kind PyTorchJob or TFJob for workers")
    return problems


def suggest_name(text: str) -> str:
    """A name Katib accepts, as close to ``text`` as the rules allow."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).lstrip("-0123456789")
    return name[:NAME_LIMIT].rstrip("-") or "my-experiment"


def _convert(name: str, value: Any) -> Any:
    if name == "command":
        try:
            words = shlex.split(value) if isinstance(value, str) else value
        except ValueError as error:  # an unclosed quote
            raise InputError(f"cannot split it into words ({error}); check its quotes") from error
        if not isinstance(words, list) or not words or not all(isinstance(w, str | int | float) for w in words):
            raise InputError("give the training command, e.g. python3 train.py --epochs=3")
        return [str(word) for word in words]
    if name == "parameters":
        return params_from_spec(value)
    if name == "metrics":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            raise InputError("give a list of metric names")
        return [str(item).strip() for item in items]
    if name == "settings":
        return _settings(value)
    if name in _INTS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"must be a whole number (got {value!r})")
        return value
    if name == "goal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"must be a number (got {value!r})")
        return value
    return _text(value)


def _settings(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(item, str) and "=" in item for item in value):
        return {k.strip(): v.strip() for k, _, v in (item.partition("=") for item in value)}
    raise InputError("give a mapping of setting names to values, e.g. {random_state: 7}")


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"must be a single value (got {value!r})")
    return str(value)


_SPEC_FIELDS = {f.name for f in fields(Inputs)} - {"direction", "objective"}


def is_init_spec(raw: Any) -> bool:
    """Whether a YAML mapping reads as an init spec file (init's words, no kind): validate names it so."""
    if not isinstance(raw, Mapping) or "kind" in raw or "apiVersion" in raw:
        return False
    keys = {str(key).replace("_", "-") for key in raw}
    return len(keys & {*_spec_keys(), "param", "params", "metric", "setting"}) >= 2


def _spec_keys() -> list[str]:
    return sorted({name.replace("_", "-") for name in _SPEC_FIELDS} | {"maximize", "minimize"})
