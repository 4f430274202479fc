"""The algorithms the hyperopt backend serves, with upstream Katib's names and settings."""

from __future__ import annotations

from katib_validators.algorithm import ALL_DISTRIBUTIONS, Algorithm, names
from katib_validators.budget import MAX_CANDIDATES
from katib_validators.counts import INT32_MAX
from katib_validators.settings import RANDOM_STATE, SEED_ONLY, Setting, SettingsSchema

# Upstream's four tpe settings keep their names and ranges; n_startup_jobs is new
# (upstream modelled after as many trials as the first batch held). The aliases
# are optuna's names for the same knobs, so an optuna tpe experiment runs here as is.
# Weights beyond these only repeat the ends' behaviour (the prior or the trials alone
# count) and near the float limits overflow: 1.7e308 made the weights' sum inf and
# 5e-324 took log(0). They cost nothing either way; the bounds keep the numbers finite.
WEIGHT_LOW, WEIGHT_HIGH = 1e-6, 1e6

_TPE = SettingsSchema((
    Setting("gamma", "float", 0.25, "fraction of the best trials TPE models as good",
            low=0, high=1, low_open=True, high_open=True),
    Setting("prior_weight", "float", 1.0, "weight of the prior against the observed trials (each weighs 1); "
            f"{WEIGHT_LOW:g} to {WEIGHT_HIGH:g}: beyond them only the trials or only the prior count, and near "
            "the float limits the weights overflow", low=WEIGHT_LOW, high=WEIGHT_HIGH),
    Setting("n_EI_candidates", "int", 24, "candidates scored by expected improvement per point; "
            f"each is scored against every trial, so at most {MAX_CANDIDATES:,} (memory grows with candidates x "
            "trials; large histories are then modelled on their best and most recent trials)",
            low=1, high=MAX_CANDIDATES, aliases=("n_ei_candidates",)),
    Setting("n_startup_jobs", "int", 20,
            "trials drawn from the prior before TPE starts modelling (running and failed trials count)",
            low=0, high=INT32_MAX, aliases=("n_startup_trials",)),
    RANDOM_STATE,
))

_ANNEAL = SettingsSchema((
    Setting("avg_best_idx", "float", 2.0,
            "mean rank of the trial each new point is drawn around (1: always the best; at most "
            f"{WEIGHT_HIGH:g}, beyond any history's length)", low=1, high=WEIGHT_HIGH),
    Setting("shrink_coef", "float", 0.1,
            f"how fast the neighbourhood shrinks as trials accumulate (0: never; at most {WEIGHT_HIGH:g}, "
            "where it is a point after the first trial)", low=0, high=WEIGHT_HIGH),
    RANDOM_STATE,
))

HYPEROPT_ALGORITHMS = (
    Algorithm("tpe", "hyperopt", names("hyperopt", "tpe"), _TPE,
              "hyperopt's Tree-structured Parzen Estimator, one point per call with pending points as bad",
              distributions=ALL_DISTRIBUTIONS),
    Algorithm("random", "hyperopt", names("hyperopt", "random"), SEED_ONLY,
              "random search from each parameter's distribution", distributions=ALL_DISTRIBUTIONS),
    Algorithm("anneal", "hyperopt", names("hyperopt", "anneal"), _ANNEAL,
              "simulated annealing around the best trials, narrowing as trials accumulate",
              distributions=ALL_DISTRIBUTIONS),
)
