"""CMA-ES rebuilt from the history on every call, with goptuna's IPOP and BIPOP restarts.

optuna's CmaEsSampler keeps its state in storage attributes that a replayed
history does not carry (and optuna 5 ignores ``restart_strategy``), so the
generations are replayed here with the ``cmaes`` library it uses: completed
trials, in request order, are told to the optimizer one population at a time.
Restarts are decided during the replay from the same history, so they need no
state either; every random choice of a restart is derived from the seed.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from katib_suggestion.model import Experiment, Parameter, Proposal, SuggestionRequest, Trial, TrialState
from katib_suggestion.seeding import SEED_LIMIT, derive_seed
from katib_validators.cmaes_rules import max_popsize, unit_steps

INC_POPSIZE = 2  # population factor between large runs (goptuna and the IPOP paper use 2)
# Sound spreads of a run, as a fraction of each range. Below the floor every draw rounds to the
# same values and more generations only drive the step size into subnormal numbers; above the
# ceiling (the cmaes library's own divergence limit) every draw is clipped to a corner.
MIN_SPREAD, MAX_SPREAD = 1e-10, 1e4


def _load_cma():
    """The CMA class without the cmaes package __init__, which imports scipy.stats for
    other optimisers (~60 MiB: the difference between fitting Katib's 100Mi default or not).
    cmaes/_cma.py needs only numpy; any other layout falls back to the plain import."""
    spec = importlib.util.find_spec("cmaes")
    try:
        location = spec.submodule_search_locations[0]
        module_spec = importlib.util.spec_from_file_location("katib_suggestion._cmaes_cma", f"{location}/_cma.py")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module  # dataclass-style lookups need it registered
        module_spec.loader.exec_module(module)
        return module.CMA
    except Exception:  # noqa: BLE001 - memory optimisation only; correctness via the public import
        from cmaes import CMA

        return CMA


CMA = _load_cma()


def cmaes_points(request: SuggestionRequest) -> Proposal:
    experiment = request.experiment
    numeric = [p for p in experiment.space if p.is_numeric]
    optimizer, _ = replay(experiment, request.history)
    seed = _seed(request.seed)
    optimizer.reseed_rng(seed)  # fresh draws per call; replay itself stayed deterministic
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(request.count):
        vector = optimizer.ask()
        point = {p.name: p.from_unit(u) for p, u in zip(numeric, vector, strict=True)}
        for p in experiment.space:
            if p.choices:  # CMA-ES has no model for lists; like optuna, sample them uniformly
                point[p.name] = p.choices[int(rng.integers(len(p.choices)))]
        points.append({p.name: point[p.name] for p in experiment.space})
    return Proposal(points)


def _seed(value: int) -> int:
    """goptuna takes any int64 random_state; numpy wants 0 <= seed < 2**32."""
    return value if 0 <= value < SEED_LIMIT else derive_seed("random_state", value)


def replay(experiment: Experiment, history: Sequence[Trial]) -> tuple[CMA, Restarts]:
    """The optimizer after every full generation of ``history``, and the restarts that led there."""
    numeric = [p for p in experiment.space if p.is_numeric]
    restarts = Restarts.plan(experiment, numeric)
    sign = -1.0 if experiment.objective.maximize else 1.0  # cmaes minimises
    units = [(p.name, p.unit) for p in numeric]
    completed = [t for t in history if t.state is TrialState.COMPLETED]
    # one array for all trials (its rows are the points told), not one array per trial
    points = np.array([[unit(t.params[name]) for name, unit in units] for t in completed]).reshape(-1, len(units))
    solutions = [(point, sign * t.value) for point, t in zip(points, completed, strict=True)]
    optimizer = restarts.first()
    run_from, position = 0, 0  # where the current run's trials start
    with np.errstate(all="ignore"):  # an overflow shows as an unsound state, handled below
        while len(solutions) - position >= optimizer.population_size:
            size = optimizer.population_size
            optimizer.tell(solutions[position: position + size])
            position += size
            if _unsound(optimizer):
                # back to the last sound state; with restarts the next run starts from there,
                # without, learning stops (later trials could only push it further out)
                optimizer = _retold(restarts.rebuilt(), solutions[run_from: position - size])
                if restarts.strategy == "none":
                    break
            elif restarts.strategy == "none" or not optimizer.should_stop():
                continue
            optimizer = restarts.next(optimizer)
            run_from = position
    return optimizer, restarts


def _retold(optimizer: CMA, solutions: list) -> CMA:
    """The current run rebuilt as it started, told ``solutions`` again a population at a time: the
    same state as before (building and telling draw no random numbers), made only in the rare case
    that it is needed."""
    size = optimizer.population_size
    for first in range(0, len(solutions), size):
        optimizer.tell(solutions[first: first + size])
    return optimizer


def _unsound(optimizer: CMA) -> bool:
    """The spread has collapsed below what doubles resolve, or exploded (a told point far outside
    the distribution, e.g. an int rounded to a cell much wider than the step size)."""
    # the cmaes library exposes no public step size; _sigma and _C are pinned by cmaes<0.14
    spread = optimizer._sigma * math.sqrt(float(optimizer._C.diagonal().max()))
    return not MIN_SPREAD <= spread <= MAX_SPREAD or not np.isfinite(optimizer._C).all()


@dataclass
class Restarts:
    """Where the next CMA-ES run starts: none, IPOP (Auger & Hansen 2005) or BIPOP (Hansen 2009).

    BIPOP interlaces large runs (population doubled each time, as IPOP) with small ones
    (a random population between the default and the last large one, a random step size
    down to 1/100 of the initial one), choosing the regime that has used fewer evaluations.
    """

    strategy: str
    dim: int
    steps: list[float]
    popsize: int
    seed: int
    restarts: int = 0  # runs started after the first one
    large_runs: int = 0
    small: bool = True  # the first run's evaluations count as small ones, as goptuna does
    evaluations: tuple[int, int] = (0, 0)  # (small, large)
    runs: list[tuple[str, int, float]] = field(default_factory=list)  # (regime, popsize, step scale)
    start_mean: np.ndarray | None = None  # where the current run (runs[-1]) started

    @classmethod
    def plan(cls, experiment: Experiment, numeric: list[Parameter]) -> Restarts:
        settings = experiment.settings
        dim = len(numeric)
        popsize = settings["popsize"] or 4 + math.floor(3 * math.log(dim))
        return cls(settings["restart_strategy"], dim, unit_steps(settings["sigma"], numeric), popsize,
                   settings["random_state"])

    def first(self) -> CMA:
        return self._new("first", self.popsize, 1.0, np.full(self.dim, 0.5))

    def next(self, optimizer: CMA) -> CMA:
        self.restarts += 1
        draws = np.random.default_rng(derive_seed(self.seed, "restart", self.restarts))
        mean = draws.uniform(0, 1, self.dim)  # every restart starts from a fresh random mean
        if self.strategy == "ipop":
            return self._new("large", optimizer.population_size * INC_POPSIZE, 1.0, mean)
        used = optimizer.population_size * optimizer.generation
        small, large = self.evaluations
        self.evaluations = (small + used, large) if self.small else (small, large + used)
        self.small = self.evaluations[0] < self.evaluations[1]
        if not self.small:
            self.large_runs += 1
            return self._new("large", self.popsize * INC_POPSIZE ** self.large_runs, 1.0, mean)
        largest = INC_POPSIZE ** self.large_runs
        popsize = math.floor(self.popsize * largest ** (draws.uniform() ** 2))
        return self._new("small", popsize, 10 ** (-2 * draws.uniform()), mean)

    def _new(self, regime: str, popsize: int, scale: float, mean: np.ndarray) -> CMA:
        """A run whose initial standard deviation is ``scale`` times the planned step per parameter."""
        popsize = min(popsize, max_popsize(self.dim))  # restarts grow it: keep one update's memory
        self.runs.append((regime, popsize, scale))
        self.start_mean = mean.copy()
        return self.rebuilt()

    def rebuilt(self) -> CMA:
        """The current run as it started (cheaper than keeping a deep copy of it for the rare retelling)."""
        _, popsize, scale = self.runs[-1]
        top = max(self.steps)
        cov = None if len(set(self.steps)) == 1 else np.diag((np.array(self.steps) / top) ** 2)
        return CMA(mean=self.start_mean, sigma=top * scale, bounds=np.array([[0.0, 1.0]] * self.dim), cov=cov,
                   seed=derive_seed(self.seed, "cma", self.restarts), population_size=popsize)
