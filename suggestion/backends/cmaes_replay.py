"""CMA-ES rebuilt from the history on every call, with IPOP restarts.

optuna's CmaEsSampler keeps its state in storage attributes that a replayed
history does not carry (and optuna 5 ignores ``restart_strategy``), so the
generations are replayed here with the ``cmaes`` library it uses: completed
trials, in request order, are told to the optimizer one population at a time.
"""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
from katib_suggestion.model import Experiment, Proposal, SuggestionRequest, TrialState
from katib_suggestion.seeding import derive_seed

DEFAULT_SIGMA = 1 / 6  # of each parameter's range, as optuna does


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
    optimizer = _replay(experiment, request)
    optimizer.reseed_rng(request.seed)  # fresh draws per call; replay itself stayed deterministic
    rng = np.random.default_rng(request.seed)
    points = []
    for _ in range(request.count):
        vector = optimizer.ask()
        point = {p.name: p.from_unit(u) for p, u in zip(numeric, vector, strict=True)}
        for p in experiment.space:
            if p.choices:  # CMA-ES has no model for lists; like optuna, sample them uniformly
                point[p.name] = p.choices[int(rng.integers(len(p.choices)))]
        points.append({p.name: point[p.name] for p in experiment.space})
    return Proposal(points)


def _replay(experiment: Experiment, request: SuggestionRequest) -> CMA:
    settings = experiment.settings
    numeric = [p for p in experiment.space if p.is_numeric]
    dim = len(numeric)
    sigma = settings["sigma"] or DEFAULT_SIGMA
    popsize = settings["popsize"] or 4 + math.floor(3 * math.log(dim))
    seed = settings["random_state"]
    sign = -1.0 if experiment.objective.maximize else 1.0  # cmaes minimises
    restarts = 0
    optimizer = _new(dim, sigma, popsize, seed, restarts)
    done = [t for t in request.history if t.state is TrialState.COMPLETED]
    position = 0
    while len(done) - position >= optimizer.population_size:
        generation = done[position: position + optimizer.population_size]
        position += optimizer.population_size
        optimizer.tell([
            (np.array([p.to_unit(t.params[p.name]) for p in numeric]), sign * t.value) for t in generation
        ])
        if settings["restart_strategy"] == "ipop" and optimizer.should_stop():
            restarts += 1
            optimizer = _new(dim, sigma, optimizer.population_size * 2, seed, restarts)
    return optimizer


def _new(dim: int, sigma: float, popsize: int, seed: int, restarts: int) -> CMA:
    bounds = np.array([[0.0, 1.0]] * dim)
    if restarts == 0:
        mean = np.full(dim, 0.5)
    else:  # IPOP starts each restart from a fresh random mean
        mean = np.random.default_rng(derive_seed(seed, "restart", restarts)).uniform(0, 1, dim)
    return CMA(mean=mean, sigma=sigma, bounds=bounds, seed=derive_seed(seed, "cma", restarts),
               population_size=popsize)
