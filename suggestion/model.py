"""Typed, parsed view of an experiment and its trials: the only types backends see.

Instances are built by ``katib_validators`` after every check has passed, so the
invariants (low <= high, log scales positive, steps that fit, non-empty lists)
are assumed here rather than checked again.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, partial
from typing import Any

from katib_suggestion import fast_paths as fast
from katib_suggestion.exact import EXACT_INDEX, Grid, double_at, exact, exp_clipped, integer, ordinal

Value = int | float | str
Point = dict[str, Value]
PointKey = tuple[Value, ...]  # SearchSpace.key


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
    """One search dimension. Numeric kinds use low/high/step; list kinds use choices.

    Every dimension has a finite, exactly counted set of values Katib can be sent
    (``cardinality``), numbered in increasing order (``value_at``/``index_of``):
    list entries, the grid low + i * step (ints exactly, stepped doubles in the
    decimal arithmetic of their printed bounds, so no grid value passes max), or,
    for a continuous double, every double between low and high.
    """

    name: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    distribution: Distribution = Distribution.UNIFORM
    choices: tuple[str, ...] = ()
    # (min, max, step) exactly as written, for a stepped double: its grid is min + i * step in
    # decimal arithmetic. Without it the shortest decimals of the doubles stand in.
    written: tuple[Fraction, Fraction, Fraction] | None = None

    @property
    def is_numeric(self) -> bool:
        return self.kind in (Kind.INT, Kind.DOUBLE)

    @cached_property
    def is_log(self) -> bool:
        """A log scale; one too narrow for doubles to tell the logs of its ends apart is linear."""
        return self.distribution in (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL) and \
            math.log(self.high) > math.log(self.low)

    @property
    def is_finite(self) -> bool:
        """Whether the values form a grid or a list (a continuous double does not)."""
        return self.kind is not Kind.DOUBLE or self.step is not None

    @property
    def is_fixed(self) -> bool:
        """A single value (min == max, or a one-entry list): nothing to tune."""
        return self.cardinality() == 1

    @property
    def indexable(self) -> bool:
        """A grid whose positions a backend can model as numbers without rounding them."""
        return self.is_finite and self.cardinality() - 1 <= EXACT_INDEX

    @cached_property
    def _grid(self) -> Grid:
        """The value grid (ints, and doubles with a step), exactly."""
        if self.written is not None:
            return Grid.of(*self.written)
        return Grid.of(exact(self.low), exact(self.high), exact(self.step if self.step is not None else 1))

    @cached_property
    def _size(self) -> int:
        if self.choices:
            return len(self.choices)
        if not self.is_finite:
            return ordinal(float(self.high)) - ordinal(float(self.low)) + 1
        return self._grid.size

    def cardinality(self) -> int:
        """Number of distinct values (for a continuous double: the doubles in [low, high])."""
        return self._size

    def value_at(self, index: int) -> Value:
        """The index-th value, in increasing order (list kinds: as listed)."""
        if self.choices:
            return self.choices[index]
        if not self.is_finite:
            return double_at(ordinal(float(self.low)) + index)
        return self._grid.integer(index) if self.kind is Kind.INT else self._grid.double(index)

    @cached_property
    def _positions(self) -> dict[str, int]:
        # a dict, not tuple.index: trials x list values would cost seconds on long lists
        return {choice: index for index, choice in enumerate(self.choices)}

    @cached_property
    def _consecutive_ints(self) -> bool:
        """An int parameter without a step (or step 1): its positions are value - min."""
        return self.kind is Kind.INT and self._grid.b == self._grid.d == 1

    @cached_property
    def indexer(self) -> Callable[[Value], int]:
        """``index_of`` as one function, for converting every value of a history."""
        if self._consecutive_ints:
            return partial(fast.clamped_offset, self._grid.a, self._size - 1)
        return self.index_of

    def index_of(self, value: Value) -> int:
        """Position of a feasible value (the nearest grid position for a numeric one)."""
        if self.choices:
            return self._positions[str(value)]
        if not self.is_finite:
            return ordinal(float(value)) - ordinal(float(self.low))
        if self.kind is Kind.INT:
            return self._grid.nearest(int(value))
        position = self._grid.position(float(value))
        return self._grid.nearest(float(value)) if position is None else position

    def snap(self, x: float) -> Value:
        """Nearest feasible value to a raw numeric sample (clipped, on the step grid)."""
        x = int(x) if isinstance(x, numbers.Integral) else float(x)  # numpy scalars included
        if x != x:
            raise ValueError(f"{self.name}: the backend proposed NaN")
        x = min(max(x, self.low), self.high)  # Python compares ints and floats exactly
        if self.is_finite:
            return self.value_at(self._grid.nearest(x))
        return float(x)

    def from_unit(self, u: float) -> Value:
        """Map u in [0, 1] onto the dimension (log-scaled where the scale is log)."""
        u = min(max(float(u), 0.0), 1.0)
        if self.is_log:
            low, high = math.log(self.low), math.log(self.high)
            return self.snap(exp_clipped(min(low + u * (high - low), high)))
        if self.is_finite:
            # equal-width cells, so the end values get their fair share
            size = self._size
            return self.value_at(min(int(u * size), size - 1))
        span = self.high - self.low
        if math.isinf(span):  # a range wider than the largest double: a convex combination cannot overflow
            return self.snap((1.0 - u) * self.low + u * self.high)
        return self.snap(self.low + u * span)

    def to_unit(self, value: Value) -> float:
        """Inverse of ``from_unit`` (centre of the value's cell for list kinds)."""
        return self.unit(value)

    @cached_property
    def unit(self) -> Callable[[Value], float]:
        """``to_unit`` with this parameter's constants worked out once: a replay maps every trial."""
        if self._size == 1:
            return fast.centre
        if self.is_finite and not self.is_log:  # lists and grids: the centre of the value's cell
            return partial(fast.cell_centre, self.indexer, self._size)
        if self.is_log:
            return partial(fast.unit_from, math.log, math.log(self.low), math.log(self.high) - math.log(self.low))
        span = self.high - self.low
        if math.isinf(span):
            return self._halves_unit
        return partial(fast.unit_from, float, self.low, span)

    def _halves_unit(self, value: Value) -> float:
        # a range wider than the largest double: halves first
        return (float(value) / 2 - self.low / 2) / (self.high / 2 - self.low / 2)

    def parse(self, text: str) -> Value:
        """Parse a trial's assignment string; ValueError when it is not a feasible value."""
        return self.parser(text)

    @cached_property
    def parser(self) -> Callable[[str], Value]:
        """``parse`` specialised for this parameter: a request holds thousands of values of each.

        Continuous doubles and unit-step ints are their own grid values, so a
        number in range is the answer; anything else, and every failure (for
        its message), takes the general path.
        """
        if self.choices:
            return self._parse_choice
        if self.is_finite and not self._consecutive_ints:
            return self._parse_number
        return partial(fast.parse_in_range, integer if self.kind is Kind.INT else float, self.low, self.high,
                       self._parse_number)

    def _parse_number(self, text: str) -> Value:
        number = integer(text) if self.kind is Kind.INT else float(text)
        if not self.low <= number <= self.high:  # false for nan; ints compare exactly
            raise ValueError(f"{text!r} is outside [{self.format(self.low)}, {self.format(self.high)}]")
        return self.value_at(self.index_of(number)) if self.is_finite else number

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
        return repr(float(value) + 0.0)  # -0.0 prints as 0.0: one number, one text


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

    def cardinality(self) -> int:
        """Number of distinct points (continuous doubles counted by the doubles they hold)."""
        return math.prod(parameter.cardinality() for parameter in self.parameters)

    @property
    def is_finite(self) -> bool:
        """Whether every dimension is a grid or a list."""
        return all(parameter.is_finite for parameter in self.parameters)

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

    def key(self, point: Mapping[str, Value]) -> PointKey:
        """Identity of a point as Katib sees it: two points have equal keys exactly when they format
        the same. Numbers stand for their text (a double prints one way, an int too), so a call can
        key its whole history without printing it."""
        return tuple([identity(point[name]) for name, identity in self._identities])

    @cached_property
    def _identities(self) -> tuple[tuple[str, Callable[[Value], Value]], ...]:
        return tuple((p.name, str if p.choices else int if p.kind is Kind.INT else fast.double_identity)
                     for p in self.parameters)

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
    sequence-based algorithms such as Sobol). ``taken``, when set, holds the
    ``SearchSpace.key`` of every point in ``history``: the core computes them
    once per call for its own check against repeats and passes them on, so a
    backend that avoids taken points reads ``taken_keys()`` instead of
    formatting the history again.
    """

    experiment: Experiment
    history: tuple[Trial, ...]
    count: int
    seed: int
    suggested_before: int = 0
    taken: frozenset[PointKey] | None = None

    def taken_keys(self) -> frozenset[PointKey]:
        """The keys of the history's points (``taken``, or computed when the caller did not give them)."""
        if self.taken is not None:
            return self.taken
        key = self.experiment.space.key
        return frozenset([key(t.params) for t in self.history])


@dataclass(frozen=True)
class Proposal:
    """A backend's answer: the points, and labels that say how they were made.

    ``labels`` go onto every trial of the batch (for example a degraded mode
    taken to stay inside the call deadline); keys and values must be valid
    Kubernetes labels (at most 63 characters, alphanumeric at both ends).
    """

    points: list[Point]
    labels: Mapping[str, str] = field(default_factory=dict)
