"""The algorithms the optuna backend serves, with upstream Katib's names and settings."""

from __future__ import annotations

from katib_validators.algorithm import Algorithm, names
from katib_validators.budget import MAX_CANDIDATES
from katib_validators.cmaes_rules import POPSIZE, SIGMA, fits_budget
from katib_validators.counts import INT32_MAX
from katib_validators.settings import RANDOM_STATE, SEED_ONLY, Setting, SettingsSchema
from katib_validators.space_rules import needs_finite_grid, needs_two_numeric

_TPE = SettingsSchema((
    Setting("n_startup_trials", "int", 10, "random trials before TPE starts modelling", low=0, high=INT32_MAX),
    Setting("n_ei_candidates", "int", 24, "candidates scored by expected improvement per point; "
            f"each is scored against every trial, so at most {MAX_CANDIDATES:,} (memory grows with candidates x "
            "trials; large histories are then modelled on their best and most recent trials)",
            low=1, high=MAX_CANDIDATES),
    RANDOM_STATE,
))

# cmaes keeps goptuna's settings and meanings: upstream's default katib-config routes cmaes to
# its goptuna image (restart strategies none, ipop, bipop; sigma absolute; any int64 seed).
_CMAES = SettingsSchema((
    Setting("restart_strategy", "choice", "none",
            "ipop restarts with a doubled population when the search stalls; bipop interlaces those "
            "with short runs of small populations and step sizes", choices=("none", "ipop", "bipop")),
    SIGMA,
    POPSIZE,
    Setting("random_state", "int", None, RANDOM_STATE.help + " (any 64-bit integer, as goptuna takes)",
            low=-2**63, high=2**63 - 1),
))

OPTUNA_ALGORITHMS = (
    Algorithm("tpe", "optuna", names("optuna", "tpe"), _TPE,
              "Tree-structured Parzen Estimator, one parameter at a time"),
    Algorithm("multivariate-tpe", "optuna", names("optuna", "multivariate-tpe"), _TPE,
              "TPE that models the parameters jointly"),
    Algorithm("cmaes", "optuna", names("optuna", "cmaes"), _CMAES,
              "CMA-ES evolution strategy over the numeric parameters",
              space_rules=(needs_two_numeric, fits_budget)),
    Algorithm("random", "optuna", names("optuna", "random"), SEED_ONLY, "uniform random search"),
    Algorithm("grid", "optuna", names("optuna", "grid"), SEED_ONLY,
              "every point of the grid once, in a seeded random order",
              space_rules=(needs_finite_grid,)),
    Algorithm("sobol", "optuna", names("optuna", "sobol"), SEED_ONLY,
              "scrambled Sobol quasi-random sequence (even coverage)"),
)
