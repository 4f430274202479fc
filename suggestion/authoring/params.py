"""The compact parameter form of `katib-suggest init`: ``lr=double:1e-5:1e-1:log``, ``batch=discrete:16,32``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KINDS = ("double", "int", "discrete", "categorical")
# option word -> Katib's feasibleSpace.distribution
SCALES = {"log": "logUniform", "loguniform": "logUniform", "uniform": "uniform", "normal": "normal",
          "lognormal": "logNormal"}
FORM = ("NAME=double:MIN:MAX or NAME=int:MIN:MAX, optionally followed by :log (or :normal, :lognormal) and "
        ":step=S; NAME=discrete:1,2,4 or NAME=categorical:adam,sgd")


class ParamError(ValueError):
    """A parameter written in a form ``init`` cannot read; the message says what to write."""


def parse_param(text: str) -> dict[str, Any]:
    """One Katib parameter (name, parameterType, feasibleSpace) from its compact form.

    Only the form is checked here; whether the numbers make sense is the
    validators' job, so that every rule lives in one place.
    """
    name, equals, rest = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise ParamError(f"write {FORM}")
    kind, _, body = rest.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ParamError(f"{name}: type {kind!r} is not one of {', '.join(KINDS)}; write {FORM}")
    if kind in ("discrete", "categorical"):
        values = [value.strip() for value in body.split(",")]
        if not body.strip() or not all(values):
            raise ParamError(f"{name}: list the values separated by commas, e.g. {name}={kind}:a,b,c")
        return {"name": name, "parameterType": kind, "feasibleSpace": {"list": values}}
    fields = [field.strip() for field in body.split(":")]
    if len(fields) < 2 or not fields[0] or not fields[1]:
        raise ParamError(f"{name}: give min and max, e.g. {name}={kind}:1:10")
    low, high, *options = fields
    space: dict[str, str] = {"min": low, "max": high}
    for option in options:
        key, equals, value = option.partition("=")
        if key.lower() == "step" and equals and value.strip() and "step" not in space:
            space["step"] = value.strip()
        elif option.lower() in SCALES and "distribution" not in space:
            space["distribution"] = SCALES[option.lower()]
        else:
            raise ParamError(f"{name}: option {option!r} is not one of log, normal, lognormal, step=S "
                             "(each at most once)")
    return {"name": name, "parameterType": kind, "feasibleSpace": space}


def params_from_spec(raw: Any) -> list[dict[str, Any]]:
    """``parameters`` of a spec file: {NAME: compact form}, a list of NAME=form strings, or Katib's own form."""
    if isinstance(raw, Mapping):
        return [parse_param(f"{name}={form}") for name, form in raw.items()]
    if isinstance(raw, list):
        return [dict(item) if isinstance(item, Mapping) else parse_param(str(item)) for item in raw]
    raise ParamError(f"give a mapping of NAME: FORM, where FORM is as in --param ({FORM})")


def merge(base: list[dict[str, Any]], override: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``base`` with each parameter of ``override`` replacing the one of the same name in place, or appended.

    A name repeated within one list stays repeated, so that the validators report it.
    """
    pending = {p.get("name"): p for p in override}
    merged = [pending.pop(p.get("name")) if p.get("name") in pending else p for p in base]
    return merged + [p for p in override if p.get("name") in pending]
