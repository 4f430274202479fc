"""The algorithm the scikit-optimize backend serves, with upstream Katib's name and settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.model import Kind, SearchSpace
from katib_validators.algorithm import LINEAR, Algorithm, names
from katib_validators.counts import INT32_MAX
from katib_validators.problems import Problem
from katib_validators.search_space import PARAMETERS_PATH
from katib_validators.settings import RANDOM_STATE, Setting, SettingsSchema

ESTIMATORS = ("GP", "RF", "ET", "GBRT")
# scikit-optimize's cost grows with its input dimensions (a GP length scale to learn,
# a tree feature, a column of 10,000 candidates each), and it one-hot encodes
# categorical lists: every value is one more dimension. Measured (one core, 4 points):
# 100 trials and 20 / 50 / 100 doubles took 7 / 9.5 / 18 s with GP, 3.2 / 7.4 s with RF;
# 300 trials and one 50-value list 27 s with GP (5 s without the list).
MAX_DIMENSIONS = 24
# EIps and PIps are listed so that their names are recognised and the
# cross-setting check can explain why they are refused.
ACQ_FUNCS = ("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps")
ACQ_OPTIMIZERS = ("auto", "sampling", "lbfgs")


def _per_second_needs_times(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """skopt's EIps/PIps model log run time next to the objective, so every observation
    must carry a duration; trials reach the backend without one (upstream Katib tells
    plain values and crashes on the first model fit)."""
    acq_func = values["acq_func"]
    if acq_func not in ("EIps", "PIps"):
        return []
    return [("acq_func", f"acq_func {acq_func} needs each trial's run time, which this service does not "
                         f"model; write acq_func: {acq_func[:-2]} (the same criterion without the time "
                         "cost) or gp_hedge")]


def _lbfgs_needs_gp(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """L-BFGS follows the gradient of the acquisition function, which only GP provides."""
    if values["acq_optimizer"] != "lbfgs" or values["base_estimator"] == "GP":
        return []
    return [("acq_optimizer", f"acq_optimizer lbfgs needs gradients, which base_estimator "
                              f"{values['base_estimator']} does not have; write acq_optimizer: sampling "
                              "(or auto), or choose base_estimator: GP")]


def within_dimensions(space: SearchSpace, spec: Mapping[str, Any]) -> list[Problem]:
    """Katib's deadline bounds the dimensions a surrogate can be fitted on (see MAX_DIMENSIONS)."""
    widths = [len(p.choices) if p.kind is Kind.CATEGORICAL and len(p.choices) > 2 else 1 for p in space]
    if sum(widths) <= MAX_DIMENSIONS:
        return []
    index = max(range(len(widths)), key=lambda i: widths[i])
    where = f"{PARAMETERS_PATH}[{index}].feasibleSpace.list" if widths[index] > 1 else PARAMETERS_PATH
    return [Problem(where, f"{sum(widths)} input dimensions (each categorical value counts as one): scikit-optimize "
                    f"models at most {MAX_DIMENSIONS} within Katib's deadline; tune fewer parameters, shorten the "
                    "lists (numbers can be a discrete parameter, one dimension), or choose tpe (optuna or hyperopt)",
                    sum(widths))]


_SCHEMA = SettingsSchema(
    (
        Setting("base_estimator", "choice", "GP",
                "surrogate model: GP (Gaussian process), RF (random forest), ET (extra trees) "
                "or GBRT (gradient-boosted quantile trees)", choices=ESTIMATORS),
        Setting("n_initial_points", "int", 10,
                "trials drawn at random before the surrogate model is used", low=0, high=INT32_MAX),
        Setting("acq_func", "choice", "gp_hedge",
                "acquisition function; gp_hedge picks among EI, LCB and PI as it learns",
                choices=ACQ_FUNCS),
        Setting("acq_optimizer", "choice", "auto",
                "how the acquisition function is minimised: sampling, lbfgs (GP only) or auto "
                "(lbfgs for GP, sampling otherwise)", choices=ACQ_OPTIMIZERS),
        RANDOM_STATE,
        Setting("time_budget_seconds", "float", 20.0,
                "CPU seconds of one core one GetSuggestions call may take, planned from the request's "
                "size with a measured cost model, never timed: the plan aims at half of it (a node twice "
                "as slow stays within it), and a prediction above that makes the model use less history, "
                "fewer candidates or fewer model points and label the trials so. At most 30: Katib's "
                "default CPU limit (500m) doubles wall time and it cancels a call after 60 s",
                low=1, high=30),
    ),
    checks=(_per_second_needs_times, _lbfgs_needs_gp),
)

SKOPT_ALGORITHMS = (
    Algorithm("bayesianoptimization", "skopt", names("skopt", "bayesianoptimization"), _SCHEMA,
              "Bayesian optimisation with a scikit-optimize surrogate (GP, RF, ET or GBRT)",
              distributions=LINEAR, space_rules=(within_dimensions,)),
)
