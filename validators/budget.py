"""What one suggestion costs each algorithm, and the plan that keeps every call inside Katib's deadline.

The cost of one model point is a sum of terms over the sizes of the request
(trials the model sees, parameters, list values, candidates scored). The
constants are single-core seconds and bytes measured on the 2026 reference
machine with ``python benchmarks/cost_model.py`` (which prints measured against
predicted for every algorithm), rounded up so that no measurement exceeds its
estimate. Everything here is a function of the request only: the same request
always gets the same plan, whatever the machine's load.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from katib_suggestion.model import SearchSpace

# Katib cancels GetSuggestions after 60 s; our target is 30 s on one core. Plans are
# made for a third of that: the estimates are upper bounds on this machine, not on
# every node, and decoding, deduplication and encoding come on top.
CALL_SECONDS = 10.0
MIB = 1024 * 1024
FLOOR_MIB = 2.0  # any call: small temporaries and the allocator's granularity
# A model that must be windowed still sees this many trials (TPE's "good" group is at
# most 25 trials, so the best quarter of a 100-trial window keeps all of it).
MIN_WINDOW = 100
# Model points every call may make before the window shrinks for them (Katib's
# parallelTrialCount defaults to 3); a larger batch gets its remaining points unseen-random.
MIN_MODEL_POINTS = 4
# TPE candidates per point (n_ei_candidates): each is scored against every trial (30
# bytes each in optuna), so 5,000 candidates and MIN_WINDOW trials take half of a call's
# memory; more would leave too small a window to model (upstream's default is 24).
MAX_CANDIDATES = 5_000
# Sizes no Experiment that Katib can store reaches (etcd keeps objects of at most
# 1.5 MiB): checked before anything is built from a request, so that validating even
# a hostile 64 MiB request costs milliseconds and no memory beyond the message.
MAX_EXPERIMENT_BYTES = 4 * MIB
MAX_LIST_VALUES = 100_000  # all lists together: about 1.5 MiB of short values
MAX_PARAMETERS = 1_000


@dataclass(frozen=True)
class Sizes:
    """The sizes of a request that the cost of one model point depends on."""

    trials: int  # trials the model sees: its history window plus the batch so far
    parameters: int
    numeric: int  # int and double parameters
    values: int  # list values of discrete and categorical parameters, all lists together
    longest: int  # values of the longest list
    candidates: int = 0  # points scored per suggestion (TPE's n_ei_candidates), 0 when none
    grids: tuple[int, ...] = ()  # values of each stepped parameter (ints, doubles with a step)

    @classmethod
    def of(cls, space: SearchSpace, trials: int, candidates: int = 0) -> Sizes:
        lists = [len(p.choices) for p in space if p.choices]
        grids = tuple(p.cardinality() for p in space if p.is_numeric and p.is_finite)
        return cls(trials, len(space), sum(1 for p in space if p.is_numeric), sum(lists), max(lists, default=0),
                   candidates, grids)

    def with_trials(self, trials: int) -> Sizes:
        return Sizes(trials, self.parameters, self.numeric, self.values, self.longest, self.candidates, self.grids)

    def stepped_pairs(self) -> int:
        """Candidate values x kernels a TPE scores as probability masses, all stepped parameters together."""
        # a plan asks this for every point of every batch it tries: one lookup, not a pass over the grids
        caps, capped, open_weights = _stepped_table(self.candidates, self.grids)
        kernels = self.trials + 1
        below = bisect_right(caps, kernels)  # grids whose kernels are capped at 3g + 1 by now
        return capped[below] + kernels * open_weights[below]

    def widest_pairs(self) -> int:
        """The same for the stepped parameter with the most (its arrays are the largest held at once)."""
        # both factors of _pairs grow with the grid, so the widest grid has the most: no pass over the grids
        # (mib asks this at every step of a plan, and a space may have 1,000 stepped parameters)
        return _pairs(self.candidates, max(self.grids, default=0), self.trials)


def _pairs(candidates: int, grid: int, trials: int) -> int:
    # optuna scores each distinct candidate value against each distinct kernel (mean,
    # width): a grid of g values holds at most g distinct candidates, and its kernels at
    # most 3 widths per value (first, middle and last of a run of equal values) plus the
    # prior's (pinned by tests/test_optuna_cost.py)
    return min(candidates, grid) * min(trials + 1, _kernel_cap(grid))


def _kernel_cap(grid: int) -> int:
    return 3 * grid + 1


@lru_cache(maxsize=256)
def _stepped_table(candidates: int, grids: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Sizes.stepped_pairs for any number of trials: the grids' kernel caps in increasing order,
    the sums of candidates x cap over the first i of them, and of candidates over the rest."""
    rows = sorted((_kernel_cap(grid), min(candidates, grid)) for grid in grids)
    capped, open_weights = [0], [sum(weight for _, weight in rows)]
    for cap, weight in rows:
        capped.append(capped[-1] + weight * cap)
        open_weights.append(open_weights[-1] - weight)
    return tuple(cap for cap, _ in rows), tuple(capped), tuple(open_weights)


@dataclass(frozen=True)
class CostModel:
    """Single-core seconds and bytes of one model point of one algorithm.

    ``candidates`` names the setting that holds the candidates scored per
    point. ``joint`` algorithms hold arrays over all parameters at once (memory
    grows with every numeric parameter and every list), the others one
    parameter at a time. ``window`` says how the history may be cut when it
    is too large: "model" keeps the best and the most recent trials (the
    algorithm models them), "free" gives the algorithm no history at all (it
    does not model it; duplicates are still removed against every trial), and
    "none" never cuts it (the algorithm replays every trial, e.g. CMA-ES).
    Constants per algorithm: costs.py.
    """

    # seconds once per call (replaying the history)
    call_trial: float = 0.0  # per trial
    call_trial_parameter: float = 0.0  # per trial x parameter
    # seconds per point
    point: float = 0.0
    parameter: float = 0.0  # per parameter
    value: float = 0.0  # per list value
    trial: float = 0.0  # per trial the model sees
    trial_parameter: float = 0.0  # per trial x parameter
    trial_value: float = 0.0  # per trial x list value
    candidate_parameter: float = 0.0  # per candidate x parameter (drawing the candidates)
    candidate_trial: float = 0.0  # per candidate x trial x numeric parameter (scoring them)
    candidate_value: float = 0.0  # per candidate x list value
    # per pair of a stepped parameter's candidate value and kernel (Sizes.stepped_pairs), on top
    # of candidate_trial: optuna scores stepped parameters as probability masses, whose tails
    # it computes in Python one value at a time
    stepped_pair: float = 0.0
    # bytes held while a point is made
    bytes_trial: float = 0.0
    bytes_trial_parameter: float = 0.0
    bytes_candidate_trial: float = 0.0  # per candidate x trial (x numeric parameters when joint)
    bytes_trial_value: float = 0.0  # per trial x value of the longest list (of every list when joint)
    bytes_candidate_value: float = 0.0  # per candidate x value of the longest list (every list when joint)
    bytes_stepped_pair: float = 0.0  # per pair of the widest stepped parameter (Sizes.widest_pairs)
    candidates: str | None = None
    joint: bool = False
    window: str = "none"
    # Working memory one call may add above its request: the image's limit minus the idle
    # server and a 10,000-trial request (one suggestion worker by default, so one call
    # holds its working set at a time).
    budget_mib: float = 32.0

    def seconds(self, s: Sizes) -> float:
        """Seconds of one point whose model sees ``s.trials`` trials."""
        return (self.point + self.parameter * s.parameters + self.value * s.values + self.trial * s.trials
                + self.trial_parameter * s.trials * s.parameters
                + self.candidate_parameter * s.candidates * s.parameters
                + self.candidate_trial * s.candidates * s.trials * s.numeric
                + self.trial_value * s.trials * s.values + self.candidate_value * s.candidates * s.values
                + (self.stepped_pair * s.stepped_pairs() if self.stepped_pair else 0.0))

    def mib(self, s: Sizes) -> float:
        numeric, values = (s.numeric, s.values) if self.joint else (min(s.numeric, 1), s.longest)
        held = ((self.bytes_trial + self.bytes_trial_parameter * s.parameters) * s.trials
                + self.bytes_candidate_trial * s.candidates * s.trials * numeric
                + self.bytes_trial_value * s.trials * values + self.bytes_candidate_value * s.candidates * values
                + self.bytes_stepped_pair * s.widest_pairs())
        return FLOOR_MIB + held / MIB

    def batch_seconds(self, s: Sizes, points: int) -> float:
        """Seconds for a call of ``points`` points: each one sees the points before it as pending trials."""
        replay = (self.call_trial + self.call_trial_parameter * s.parameters) * s.trials if points else 0.0
        return replay + sum(self.seconds(s.with_trials(s.trials + i)) for i in range(points))

    def fits(self, s: Sizes, points: int) -> bool:
        return (self.batch_seconds(s, points) <= CALL_SECONDS
                and self.mib(s.with_trials(s.trials + points)) <= self.budget_mib)


def sizes_for(cost: CostModel, space: SearchSpace, settings: Mapping[str, Any], trials: int) -> Sizes:
    return Sizes.of(space, trials, int(settings.get(cost.candidates) or 0) if cost.candidates else 0)


@dataclass(frozen=True)
class Plan:
    """What one call computes: the trials its model sees and how many points the model makes."""

    window: int | None  # trials handed to the algorithm (None: all of them)
    model_points: int  # the remaining points of the batch are drawn unseen-uniformly
    degraded: tuple[str, ...] = ()  # names of the reductions, for the trials' label


def plan(cost: CostModel, space: SearchSpace, settings: Mapping[str, Any], trials: int, count: int) -> Plan:
    """The largest history window, then the most model points, that fit the call's budget."""
    sizes = sizes_for(cost, space, settings, trials)
    window, degraded = None, []
    if cost.window == "free":
        window, sizes = 0, sizes.with_trials(0)
    wanted = min(count, MIN_MODEL_POINTS)
    if cost.window == "model" and not cost.fits(sizes, wanted) and trials > MIN_WINDOW:
        window = largest(MIN_WINDOW, trials, lambda w: cost.fits(sizes.with_trials(w), wanted))
        sizes = sizes.with_trials(window)
        degraded.append("history-window")
    points = largest(min(count, 1), count, lambda k: cost.fits(sizes, k))
    if points < count:
        degraded.append("batch-limit")
    return Plan(window, points, tuple(degraded))


def largest(low: int, high: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [low, high] with fits(n), for a fits that only turns false as n grows; low if none."""
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low
