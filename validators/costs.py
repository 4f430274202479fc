"""Measured cost of one model point for every algorithm whose calls the budget plans (see budget.py).

Measured with ``python benchmarks/cost_model.py`` (single-core CPU seconds, peak
RSS above the start of the call) on the 2026 reference machine: 2 cores shared
with other work, so the times are rounded up from the slowest runs; the command
prints every measurement next to its estimate. Probes: 1 to 20 doubles, a
categorical list of 1,000 to 30,000 values, 0 to 4,000 trials, batches of 4 to
256 points, 24 to 5,000 TPE candidates, 1 to 5 stepped ints of 50 values to
1.8e9 (TPE only). Time constants: the command's ``--fit``
(least squares on relative error, scaled until no probe exceeds it), rounded up
by about a third; memory constants set from the probes that isolate each term.
The measurements behind them are in benchmarks/cost_model.jsonl
(``python benchmarks/cost_model.py --load benchmarks/cost_model.jsonl`` reprints them
against the current constants).

The memory budget of each backend is a limit minus its idle server and a
10,000-trial request: optuna 128Mi - 61 - 30, hyperopt 160Mi - 83 - 20 (rounded
down). Those were the images' limits until the image check measured the largest
accepted call in the image at 115 and 154 MiB; the limits are now 160Mi and
192Mi (suggestion/backends/builtin.py), so the budgets leave that headroom.
"""

from __future__ import annotations

from katib_suggestion.model import Experiment
from katib_validators.budget import CostModel, Plan, plan, sizes_for

# ValidateAlgorithmSettings answers within a second or two: its dry run (one point, no
# trials) runs only when its estimate is below this.
DRY_RUN_SECONDS = 0.25
OPTUNA_MIB = 32.0
HYPEROPT_MIB = 56.0

# optuna's TPE scores every candidate against every trial: arrays of candidates x trials
# per numeric parameter, and a weight per trial and list value for lists (each
# parameter on its own; all at once for multivariate). Per trial and parameter, the
# distributions and values of its FrozenTrials: tpe with 465 doubles and 100 trials held
# 10 MiB above its request, multivariate-tpe with 405 doubles 36 MiB (largest_calls.py).
# Stepped parameters cost far more per candidate and trial when their values are many:
# each tail probability is one Python call (two per pair, up to 3 us each here), so
# ``stepped_pair`` is 1.3x the worst probe (5.05e-6 s, 200 candidates at 1,000 trials of an
# int over +-9.2e18 in steps of 1e10) and covers two of the slowest calls; 944 points at
# 124 trials with 4,999 candidates took 87-152 s of one core when this term was missing.
_OPTUNA_TPE = dict(
    call_trial=3.3e-5, call_trial_parameter=2e-7, point=0.005, parameter=0.003, value=2.2e-6,
    trial_parameter=1.5e-5, trial_value=4.3e-7, candidate_parameter=1.1e-5, candidate_trial=1.8e-7,
    candidate_value=1e-8, bytes_trial=1500, bytes_trial_parameter=170, bytes_candidate_trial=30, bytes_trial_value=9,
    bytes_candidate_value=20, stepped_pair=6.5e-6, bytes_stepped_pair=100, candidates="n_ei_candidates",
    window="model", budget_mib=OPTUNA_MIB)

COSTS: dict[tuple[str, str], CostModel] = {
    ("optuna", "tpe"): CostModel(**_OPTUNA_TPE),
    ("optuna", "multivariate-tpe"): CostModel(**{
        **_OPTUNA_TPE, "call_trial": 5.3e-5, "call_trial_parameter": 1.4e-5, "point": 0.01, "parameter": 0.0015,
        "trial": 2.6e-5, "trial_parameter": 0.0, "trial_value": 7.8e-7, "candidate_parameter": 2.1e-5,
        "candidate_trial": 1.2e-7, "candidate_value": 9e-8, "bytes_trial": 1800, "bytes_trial_parameter": 100,
        "bytes_stepped_pair": 65},
        joint=True),
    # the random sampler ignores the history (only the batch so far reaches it); the
    # study checks every trial against every list value
    ("optuna", "random"): CostModel(
        call_trial=6.6e-5, call_trial_parameter=5.3e-6, point=6e-4, parameter=7.5e-5, value=2.2e-6, trial=2.1e-7,
        trial_value=2.7e-7, bytes_trial=1200, window="free", budget_mib=OPTUNA_MIB),
    # CMA-ES replays every generation (the history cannot be cut) but that is cheap
    ("optuna", "cmaes"): CostModel(call_trial=7.7e-5, call_trial_parameter=1.4e-6, point=1e-4, bytes_trial=100,
                                   budget_mib=OPTUNA_MIB),
    ("optuna", "sobol"): CostModel(call_trial=1.4e-5, call_trial_parameter=1.8e-6, point=1.2e-4, value=1e-7,
                                   bytes_trial=600, budget_mib=OPTUNA_MIB),
    # hyperopt's TPE: candidates x trials per parameter; lists cost only per candidate (value counts);
    # ``trial`` also covers refreshing its Trials after each point (a 1,000-point batch at 11 trials
    # took 11.3 s in a whole call against 10 s estimated for its 343 model points before it was added).
# ``trial_parameter`` is set by int and stepped parameters, whose bounded mixtures hyperopt
# integrates in Python per trial: 1,000 points at 10,000 trials of the latency benchmark's
# space (two of five stepped) took 17 s of one core for 16 model points at 5.7e-6 (fitted
# on doubles only); 1.7e-5 covers them (benchmarks/largest_calls.py).
    ("hyperopt", "tpe"): CostModel(
        call_trial=5e-5, call_trial_parameter=1.3e-5, point=0.003, parameter=0.0033, trial=1.5e-5,
        trial_parameter=1.7e-5, candidate_parameter=2.7e-5, candidate_trial=6.8e-8, candidate_value=4e-8,
        bytes_trial=1700, bytes_trial_parameter=400, bytes_candidate_trial=45, bytes_candidate_value=9,
        candidates="n_EI_candidates", window="model", budget_mib=HYPEROPT_MIB),
    ("hyperopt", "anneal"): CostModel(
        call_trial_parameter=1.6e-5, point=6e-4, parameter=4e-4, value=7e-8, trial=1e-5, trial_parameter=1.1e-6,
        bytes_trial=1700, bytes_trial_parameter=350, window="model", budget_mib=HYPEROPT_MIB),
    ("hyperopt", "random"): CostModel(call_trial_parameter=4.6e-6, point=7e-4, parameter=9.5e-5, bytes_trial=600,
                                      budget_mib=HYPEROPT_MIB),
}


def cost_of(backend: str, key: str) -> CostModel | None:
    """The cost model of an algorithm; None when its calls are not planned here (skopt plans its own)."""
    return COSTS.get((backend, key))


def plan_call(backend: str, experiment: Experiment, trials: int, count: int) -> Plan | None:
    """The plan of one GetSuggestions call; None for algorithms without a cost model here."""
    cost = cost_of(backend, experiment.algorithm)
    return None if cost is None else plan(cost, experiment.space, experiment.settings, trials, count)


def dry_run_fits(backend: str, experiment: Experiment) -> bool:
    """Whether a one-point suggestion without trials is cheap enough to run inside Validate."""
    cost = cost_of(backend, experiment.algorithm)
    if cost is None:
        return True
    return cost.batch_seconds(sizes_for(cost, experiment.space, experiment.settings, 0), 1) <= DRY_RUN_SECONDS
