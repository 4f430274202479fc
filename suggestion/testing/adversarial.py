"""Hypothesis strategies for legal but adversarial Katib experiments, for any algorithm of the catalog.

A ``Scenario`` is an Experiment as users write it plus how Katib would drive
it: the count of each GetSuggestions call, where the position counter starts,
and what becomes of every suggested trial. ``contract.run_scenario`` plays it.
Numbers are chosen where arithmetic breaks: 64-bit ints, a few ulps of width,
steps that almost divide the range or are finer than doubles, min == max,
finite spaces around maxTrialCount, positions up to 2**31-1, metric values up to
1e308, settings at the edges of their declared ranges.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from fractions import Fraction

from hypothesis import strategies as st
from katib_validators.algorithm import Algorithm
from katib_validators.settings import Setting

INT64 = 2**63 - 1
INT32 = 2**31 - 1
MAX_DOUBLE = 1.7976931348623157e308

# Classes of issue 13 fixed in the backends and budgets (not in exact arithmetic), whose experiments cost
# more to play: the conformance kit switches them all on; the campaign does with --foreign all.
FOREIGN = {
    "extreme_metrics": "class 3: objective values beyond 1e150 told to skopt (skopt_* backends)",
    "float32_bounds": "class 4: bounds beyond float32 with skopt's tree estimators (skopt_* backends)",
    "budget_settings": "class 5: settings whose size or scale exhausts time or memory (settings ranges)",
    "large_batches": "class 10: hundreds of points per call of a model-based algorithm (call budgets)",
    "clock_budget": "class 11: skopt time_budget_seconds low enough for the clock to decide (skopt_budget)",
}
CHEAP = {"random", "grid", "sobol"}  # algorithm keys that answer a large batch in milliseconds per point


@dataclass(frozen=True)
class Outcome:
    """What becomes of one suggested trial: Katib's final condition, the objective's text, and
    how many later calls it is still RUNNING in."""

    condition: str
    value: str | None
    pending_calls: int = 0


@dataclass(frozen=True)
class Scenario:
    backend: str
    document: dict  # the Experiment as users write it (metadata + spec)
    counts: tuple[int, ...]  # current_request_number of each call
    offset: int  # where Katib's total_request_number starts
    outcomes: tuple[Outcome, ...]  # cycled over the suggested trials in order


INTS = [0, 1, -1, 2, 10, 2**31 - 1, -(2**31), 2**53 - 1, 2**53, 2**53 + 1, 2**62, INT64 - 7, INT64, -INT64, 10**10]
DOUBLES = [0.0, -0.0, 1.0, -1.0, 0.1, 0.3, 3.9999999999, 1e-9, 1e-300, 5e-324, 2.2250738585072014e-308, 1e16,
           9007199254740993.0, -1e6, -999999.999999999, 1e38, 1e39, 1e300, -1e308, MAX_DOUBLE]
DISCRETE = ["0.10", "1e-3", "-0", "5", "1e308", "-1e-308", "2", "9007199254740993", "-7.5", "30", "0.30000000000000004"]
CATEGORICAL = ["adam", "sgd", "", " ", "a b", "é", "0.10", "x" * 63, "UPPER", "null", "true"]
NAMES = ["lr", "x", "n-layers", "a.b", "Batch_Size", "p0", "p1", "p2", "units"]


def number_text(x: float) -> st.SearchStrategy[str]:
    """Ways users write one double: shortest repr, 17 digits, plain integer, exponent."""
    forms = [st.just(repr(x)), st.just(format(x, ".17g"))]
    if x.is_integer() and abs(x) < 1e20:  # "5" rather than "5.0"
        forms.append(st.just(str(int(x))))
    return st.one_of(*forms)


@st.composite
def int_space(draw, log: bool, tunable: bool) -> dict:
    low = draw(st.one_of(st.sampled_from(INTS), st.integers(-1000, 1000), st.integers(-INT64, INT64)))
    width = draw(st.one_of(st.just(1 if tunable else 0), st.integers(1, 12), st.integers(1 - tunable, 10**4),
                           st.sampled_from([2**31, 2**53 - 1, 2**53, 2**53 + 7, 2**63, 2**64 - 2]),
                           st.integers(0, 2**64 - 2)))
    if log and low < 1:
        low = draw(st.sampled_from([1, 2, 1000, 2**53]))
    low = max(min(low, INT64 - width), -INT64)
    high = min(low + width, INT64)
    space = {"min": str(low), "max": str(high)}
    step = draw(st.one_of(st.none(), st.just(1), st.integers(1, max(1, high - low)),
                          st.sampled_from([max(high - low, 1), max(high - low - 1, 1), 10**10, 2**53])))
    if step is not None and (step <= max(high - low, 1) or draw(_rarely())):
        space["step"] = str(step)
    return space


def _rarely(one_in: int = 10) -> st.SearchStrategy[bool]:
    """True about once in ``one_in`` draws: how often the generator keeps an input validation must reject."""
    # not an end of the range: hypothesis draws the ends of a range far more often
    return st.integers(1, one_in).map(lambda n: n == one_in // 2)


@st.composite
def double_space(draw, log: bool, limit: float, stepped: bool, tunable: bool) -> dict:
    low = draw(st.one_of(st.sampled_from(DOUBLES), st.floats(-1e6, 1e6),
                         st.floats(allow_nan=False, allow_infinity=False)))
    if log and low <= 0:
        low = draw(st.sampled_from([5e-324, 1e-300, 1e-9, 0.001, 1.0]))
    low = max(min(low, limit), -limit)
    shape = draw(st.sampled_from(["ulps", "relative", "plain", "huge"] + ([] if tunable else ["fixed"])))
    high = low
    if shape == "ulps":
        for _ in range(draw(st.integers(1, 40))):
            high = math.nextafter(high, math.inf)
    elif shape == "relative":
        high = low + max(abs(low), 1e-300) * draw(st.floats(1e-15, 1e-6))
    elif shape == "plain":
        high = low + draw(st.floats(1e-6, 1e6))
    elif shape == "huge":
        high = draw(st.floats(low, limit))
    high = min(high, limit)
    space = {"min": draw(number_text(low)), "max": draw(number_text(high))}
    step = draw(_step(low, high)) if stepped or draw(st.booleans()) else None
    if step is not None and (step <= high - low or draw(_rarely())):
        space["step"] = draw(number_text(step))
    return space


def _step(low: float, high: float) -> st.SearchStrategy[float]:
    width = high - low if math.isfinite(high - low) else MAX_DOUBLE
    spacing = math.ulp(max(abs(low), abs(high)))
    candidates = [st.sampled_from([10.0**k for k in range(-6, 7)]),
                  st.integers(1, 20).map(lambda k: width / k),
                  st.integers(1, 20).map(lambda k: width / k * (1 + 2**-50)),  # almost divides
                  st.integers(1, 20).map(lambda k: width / k * (1 + 2**-50)),
                  st.integers(1, 4).map(lambda m: spacing * m)]  # around the spacing of doubles
    if width > 0:
        candidates.append(st.just(width))
    return st.one_of(*candidates).filter(lambda s: s > 0 and math.isfinite(s))


@st.composite
def parameter(draw, algorithm: Algorithm, limit: float, numeric: bool = False) -> dict:
    """One parameter; ``numeric`` ones are int or double with room to tune (cmaes needs two)."""
    kinds = ["int", "double", "double"] + ([] if numeric else ["discrete", "categorical"])
    kind = draw(st.sampled_from(kinds))
    if kind == "discrete":
        values = draw(st.lists(st.sampled_from(DISCRETE), min_size=1, max_size=6, unique_by=float))
        return {"parameterType": kind, "feasibleSpace": {"list": values}}
    if kind == "categorical":
        values = draw(st.lists(st.sampled_from(CATEGORICAL), min_size=1, max_size=6, unique=True))
        return {"parameterType": kind, "feasibleSpace": {"list": values}}
    legal = sorted(d.value for d in algorithm.distributions)
    distribution = draw(st.sampled_from(["normal", "logNormal"]) if draw(_rarely(40)) else
                        st.sampled_from(["", *legal]))
    log = distribution in ("logUniform", "logNormal")
    stepped = _rule(algorithm, "needs_finite_grid") and not draw(_rarely())
    space = draw(int_space(log, numeric) if kind == "int" else double_space(log, limit, stepped, numeric))
    if distribution:
        space["distribution"] = distribution
    return {"parameterType": kind, "feasibleSpace": space}


# Settings whose far values belong to a foreign class: name -> (flag, values used without it).
TAME = {
    "time_budget_seconds": ("clock_budget", ["20", "30"]),
    "sigma": ("budget_settings", ["0"]),  # a non-zero one is drawn from the space: see _sigma
    "popsize": ("budget_settings", ["4", "5", "40"]),
    "n_ei_candidates": ("budget_settings", ["1", "2", "24", "200"]),
    "n_EI_candidates": ("budget_settings", ["1", "2", "24", "200"]),
}


def setting_value(setting: Setting, foreign: frozenset[str]) -> st.SearchStrategy[str]:
    """Values at the edges of a setting's declared range, and one inside it."""
    flag, tame = TAME.get(setting.name, (None, None))
    if tame is not None and flag not in foreign:
        return st.sampled_from(tame)
    if setting.kind == "choice":
        return st.sampled_from([*setting.choices, *(c.lower() for c in setting.choices)])
    if setting.kind == "bool":
        return st.sampled_from(["true", "false", "True", "FALSE"])
    huge = "budget_settings" in foreign
    if setting.kind == "int":
        low = int(setting.low) if setting.low is not None else -(2**31)
        high = int(setting.high) if setting.high is not None else (INT32 if huge else low + 50)
        return st.one_of(st.sampled_from([low, min(low + 1, high), high, max(high - 1, low)]),
                         st.integers(low, high)).map(str)
    low = setting.low if setting.low is not None else -1e6
    high = setting.high if setting.high is not None else (1e300 if huge else low + 100)
    tiny = 5e-324 if huge else 1e-9 * max(1.0, abs(high - low))
    edges = [low + tiny if setting.low_open else low, high - tiny if setting.high_open else high]
    inside = st.floats(low, high, exclude_min=setting.low_open, exclude_max=setting.high_open)
    return st.one_of(st.sampled_from(edges), inside).map(repr)


@st.composite
def settings(draw, algorithm: Algorithm, foreign: frozenset[str]) -> list[dict]:
    chosen = []
    for setting in algorithm.schema.settings:
        if draw(st.booleans()):
            name = draw(st.sampled_from([setting.name, *setting.aliases]))
            chosen.append({"name": name, "value": draw(setting_value(setting, foreign))})
    return chosen


OUTCOMES = ["SUCCEEDED"] * 5 + ["FAILED", "KILLED", "EARLYSTOPPED", "METRICSUNAVAILABLE", "UNKNOWN"]


def metric_values(extreme: bool) -> st.SearchStrategy[str]:
    odd = ["0", "-0.0", "5e-324", "1e-300", "nan", "inf", "-inf", "unavailable", "1", "1"]
    if extreme:
        odd += ["1e308", "-1e308", "1.7976931348623157e+308", "1e200", "-1e200"]
    return st.one_of(st.floats(-1e3, 1e3).map(repr), st.sampled_from(odd))


@st.composite
def outcomes(draw, extreme: bool) -> tuple[Outcome, ...]:
    items = st.builds(Outcome, st.sampled_from(OUTCOMES), st.one_of(st.none(), metric_values(extreme)),
                      st.sampled_from([0, 0, 0, 1, 2]))
    return tuple(draw(st.lists(items, min_size=1, max_size=8)))


@st.composite
def scenarios(draw, algorithm: Algorithm, foreign: frozenset[str] = frozenset(), large: int = 1000) -> Scenario:
    """One experiment for ``algorithm`` and the calls Katib makes for it (now and then a call for up
    to ``large`` points; a model-based algorithm gets at most 30 unless large_batches is on)."""
    chosen = draw(settings(algorithm, foreign))
    trees = algorithm.backend == "skopt" and any(
        s["name"] == "base_estimator" and s["value"].upper() != "GP" for s in chosen)
    limit = 1e38 if trees and "float32_bounds" not in foreign else MAX_DOUBLE
    numeric = 2 if _rule(algorithm, "needs_two_numeric") and not draw(_rarely()) else 0
    names = draw(st.lists(st.sampled_from(NAMES), min_size=max(numeric, 1), max_size=4, unique=True))
    parameters = [{"name": name, **draw(parameter(algorithm, limit, index < numeric))}
                  for index, name in enumerate(names)]
    if "budget_settings" not in foreign:
        chosen = [{**s, "value": draw(_sigma(parameters))} if s["name"] in ("sigma", "sigma0") else s
                  for s in chosen]
    max_trials = draw(_max_trials(parameters))
    parallel = draw(st.one_of(st.none(), st.integers(1, min(max_trials or 20, 20))))
    spec = {
        "parameters": parameters,
        "objective": {"type": draw(st.sampled_from(["minimize", "maximize"])), "objectiveMetricName": "loss",
                      "additionalMetricNames": draw(st.sampled_from([[], ["accuracy"]]))},
        "algorithm": {"algorithmName": draw(st.sampled_from(algorithm.names)), "algorithmSettings": chosen},
    }
    if max_trials is not None:
        spec["maxTrialCount"] = max_trials
    if parallel is not None:
        spec["parallelTrialCount"] = parallel
    name = draw(st.sampled_from(["adv", "a" * 40, "exp-1", "x0"]))
    counts = draw(_counts(algorithm, max_trials, parallel or 3, foreign, large))
    room = INT32 - sum(counts)
    offset = draw(st.one_of(st.just(0), st.just(0), st.sampled_from([2**30 - 1, 2**30, room]), st.integers(0, room)))
    extreme = algorithm.backend != "skopt" or "extreme_metrics" in foreign
    return Scenario(algorithm.backend, {"metadata": {"name": name}, "spec": spec}, counts, min(offset, room),
                    draw(outcomes(extreme)))


@st.composite
def _counts(draw, algorithm: Algorithm, max_trials: int | None, parallel: int, foreign: frozenset[str],
            large: int):
    """Calls as Katib makes them (at most parallelTrialCount, never past maxTrialCount), with
    the odd large one; a large batch of a model-based algorithm is class 10's."""
    large = large if algorithm.key in CHEAP or "large_batches" in foreign else min(large, 30)
    left = max_trials if max_trials is not None else 10**6
    counts = []
    for _ in range(draw(st.integers(1, 4))):
        if left == 0:
            break
        count = draw(st.one_of(st.integers(1, parallel), st.just(1), st.integers(1, large)))
        counts.append(min(count, left))
        left -= counts[-1]
    return tuple(counts)


def _sigma(parameters: list[dict]) -> st.SearchStrategy[str]:
    """cmaes' absolute sigma: unset (0), or the edges and the middle of what these parameters allow."""
    from katib_validators.cmaes_rules import MAX_UNIT_STEP, MIN_UNIT_STEP, width
    from katib_validators.search_space import parse_search_space

    space, _ = parse_search_space(parameters)
    widths = [w for p in (space or ()) if p.is_numeric and not p.is_fixed for w in [width(p)] if w > 0]
    low, high = (MIN_UNIT_STEP * max(widths), MAX_UNIT_STEP * min(widths)) if widths else (1.0, 0.0)
    if not low <= high or not math.isfinite(high):
        return st.just("0")
    return st.sampled_from(["0", repr(low), repr(high), repr(math.sqrt(low) * math.sqrt(high))])


def _rule(algorithm: Algorithm, name: str) -> bool:
    return any(rule.__name__ == name for rule in algorithm.space_rules)


def _max_trials(parameters: list[dict]) -> st.SearchStrategy[int | None]:
    """Mostly no more than the space holds, sometimes exactly that, rarely one more or unset."""
    size = math.prod(_size(p) for p in parameters)
    fits = st.integers(1, min(size, 300))
    edge = [size] if size <= INT32 else []
    odd = st.sampled_from([None, *([size + 1] if size < INT32 else []), 1])
    return st.one_of(fits, fits, fits, st.sampled_from(edge or [1]), odd)


def _size(p: dict) -> int:
    """The number of values of one parameter as written (a rough, independent count)."""
    space = p["feasibleSpace"]
    if "list" in space:
        return len(space["list"])
    try:
        low, high = Fraction(space["min"]), Fraction(space["max"])
        if p["parameterType"] == "double" and "step" not in space:
            return max(_ordinal(float(high)) - _ordinal(float(low)) + 1, 1)
        step = Fraction(space.get("step", "1"))
        return max(math.floor((high - low) / step) + 1, 1) if step > 0 else 1
    except (ValueError, ZeroDivisionError):
        return 1


def _ordinal(x: float) -> int:
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & (2**63 - 1))
