"""Typed, parsed view of an experiment and its trials: the only types backends see.

Instances are built by ``katib_validators`` after every check has passed, so the
invariants (low < high, log scales positive, steps that fit, non-empty lists)
are assumed here rather than checked again.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Value = int | float | str
Point = dict[str, Value]


class Kind(enum.Enum):
    INT = "int"
    DOUBLE = "double"
    DISCRETE = "discrete"
    CATEGORICAL = "categorical"


class Distribution(enum.Enum):
    UNIFORM = "uniform"
    LOG_UNIFORM = "logUniform"
    NORMAL = "normal"
    LOG_NORMAL = "logNormal"


class Direction(enum.Enum):
    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


class TrialState(enum.Enum):
    COMPLETED = "completed"  # finished with a usable objective value
    PENDING = "pending"  # created or running: its point is taken, its value unknown
    FAILED = "failed"  # failed, killed, or finished without a usable value
    PRUNED = "pruned"  # early-stopped: value is the last observation, not a final result


@dataclass(frozen=True)
class Parameter:
    """One search dimension. Numeric kinds use low/high/step; list kinds use choices."""

    name: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    distribution: Distribution = Distribution.UNIFORM
    choices: tuple[str, ...] = ()
    decimals: int = 0  # digits after the point that stepped doubles are rounded to

    @property
    def is_numeric(self) -> bool:
        return self.kind in (Kind.INT, Kind.DOUBLE)

    @property
    def is_log(self) -> bool:
        return self.distribution in (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL)

    @property
    def is_finite(self) -> bool:
        return self.kind is not Kind.DOUBLE or self.step is not None

    @property
    def grid_step(self) -> float:
        """Spacing of the value grid (ints step 1 unless told otherwise)."""
        if self.step is not None:
            return self.step
        return 1 if self.kind is Kind.INT else 0.0

    def cardinality(self) -> int | None:
        """Number of distinct values, or None for a continuous double."""
        if self.choices:
            return len(self.choices)
        if not self.is_finite:
            return None
        # the epsilon keeps 0.3/0.1 from flooring to 2
        return int(math.floor((self.high - self.low) / self.grid_step + 1e-9)) + 1

    def value_at(self, index: int) -> Value:
        """The index-th value of a finite dimension, in increasing order."""
        if self.choices:
            return self.choices[index]
        return self._grid_value(index)

    @functools.cached_property
    def _positions(self) -> dict[str, int]:
        # a dict, not tuple.index: trials x list values would cost seconds on long lists
        return {choice: index for index, choice in enumerate(self.choices)}

    def index_of(self, value: Value) -> int:
        if self.choices:
            return self._positions[str(value)]
        return int(round((float(value) - self.low) / self.grid_step))

    def _grid_value(self, index: int) -> Value:
        raw = self.low + index * self.grid_step
        if self.kind is Kind.INT:
            return int(round(raw))
        return round(raw, self.decimals)

    def snap(self, x: float) -> Value:
        """Nearest feasible value to a raw numeric sample (clipped, on the step grid)."""
        x = min(max(float(x), self.low), self.high)
        if self.is_finite:
            last = self.cardinality() - 1
            return self._grid_value(min(max(int(round((x - self.low) / self.grid_step)), 0), last))
        return x

    def from_unit(self, u: float) -> Value:
        """Map u in [0, 1] onto the dimension (log-scaled where the scale is log)."""
        u = min(max(float(u), 0.0), 1.0)
        if self.is_log:
            span = math.log(self.high) - math.log(self.low)
            return self.snap(math.exp(math.log(self.low) + u * span))
        if self.is_finite:
            # equal-width cells, so the end values get their fair share
            size = self.cardinality()
            return self.value_at(min(int(u * size), size - 1))
        return self.low + u * (self.high - self.low)

    def to_unit(self, value: Value) -> float:
        """Inverse of ``from_unit`` (centre of the value's cell for list kinds)."""
        if self.high == self.low and not self.choices:
            return 0.5
        if self.is_finite and not self.is_log:
            return (self.index_of(value) + 0.5) / self.cardinality()
        if self.is_log:
            span = math.log(self.high) - math.log(self.low)
            return (math.log(float(value)) - math.log(self.low)) / span
        return (float(value) - self.low) / (self.high - self.low)

    def parse(self, text: str) -> Value:
        """Parse a trial's assignment string; ValueError when it is not a feasible value."""
        if self.choices:
            return self._parse_choice(text)
        number = float(text)
        if not math.isfinite(number) or not self.low - 1e-9 <= number <= self.high + 1e-9:
            raise ValueError(f"{text!r} is outside [{self.format(self.low)}, {self.format(self.high)}]")
        if self.kind is Kind.INT:
            if number != int(number):
                raise ValueError(f"{text!r} is not an integer")
            return int(number)
        return self.snap(number) if self.step is not None else number

    def _parse_choice(self, text: str) -> str:
        if text in self._positions:
            return text
        if self.kind is Kind.DISCRETE:
            # "0.10" and "0.1" name the same discrete value
            for choice in self.choices:
                try:
                    if float(choice) == float(text):
                        return choice
                except ValueError:
                    continue
        raise ValueError(f"{text!r} is not one of {list(self.choices)}")

    def format(self, value: Value) -> str:
        """Render a value the way Katib substitutes it (ints without a decimal point)."""
        if self.choices:
            return str(value)
        if self.kind is Kind.INT:
            return str(int(value))
        return repr(float(value))


@dataclass(frozen=True)
class SearchSpace:
    parameters: tuple[Parameter, ...]

    def __iter__(self):
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def cardinality(self) -> int | None:
        """Number of distinct points, or None when a dimension is continuous."""
        total = 1
        for parameter in self.parameters:
            size = parameter.cardinality()
            if size is None:
                return None
            total *= size
        return total

    def point_at(self, index: int) -> Point:
        """The index-th point of a finite space (mixed radix, first parameter slowest)."""
        point: Point = {}
        for parameter in reversed(self.parameters):
            index, digit = divmod(index, parameter.cardinality())
            point[parameter.name] = parameter.value_at(digit)
        return {p.name: point[p.name] for p in self.parameters}

    def index_of(self, point: Mapping[str, Value]) -> int:
        index = 0
        for parameter in self.parameters:
            index = index * parameter.cardinality() + parameter.index_of(point[parameter.name])
        return index

    def key(self, point: Mapping[str, Value]) -> tuple[str, ...]:
        """Identity of a point as Katib sees it: its formatted values."""
        return tuple(p.format(point[p.name]) for p in self.parameters)

    def from_unit(self, vector: Sequence[float]) -> Point:
        return {p.name: p.from_unit(u) for p, u in zip(self.parameters, vector, strict=True)}

    def format(self, point: Mapping[str, Value]) -> dict[str, str]:
        return {p.name: p.format(point[p.name]) for p in self.parameters}


@dataclass(frozen=True)
class Objective:
    direction: Direction
    metric_name: str
    goal: float | None = None

    @property
    def maximize(self) -> bool:
        return self.direction is Direction.MAXIMIZE


@dataclass(frozen=True)
class Trial:
    name: str
    params: Point
    state: TrialState
    value: float | None = None


@dataclass(frozen=True)
class Experiment:
    """Everything a backend needs to know about the experiment being tuned."""

    name: str
    algorithm: str  # canonical algorithm key, e.g. "tpe" (never an alias)
    space: SearchSpace
    objective: Objective
    settings: Mapping[str, Any] = field(default_factory=dict)  # parsed, defaults applied
    max_trial_count: int = 0
    parallel_trial_count: int = 0


@dataclass(frozen=True)
class SuggestionRequest:
    """One backend call: return ``count`` points for ``experiment`` given ``history``.

    ``seed`` is already derived per call (experiment seed and request number), so
    a backend seeds its RNGs with it and is then a pure function of this object.
    ``suggested_before`` counts the assignments given in earlier calls (for
    sequence-based algorithms such as Sobol).
    """

    experiment: Experiment
    history: tuple[Trial, ...]
    count: int
    seed: int
    suggested_before: int = 0


@dataclass(frozen=True)
class Proposal:
    """A backend's answer: the points, and labels that say how they were made.

    ``labels`` go onto every trial of the batch (for example a degraded mode
    taken to stay inside the call deadline); keys and values must be valid
    Kubernetes labels (at most 63 characters, alphanumeric at both ends).
    """

    points: list[Point]
    labels: Mapping[str, str] = field(default_factory=dict)
