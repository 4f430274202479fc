"""One call from request to reply: decode, validate, suggest without repeats, encode."""

from __future__ import annotations

import logging
from dataclasses import replace

from katib_api import api_pb2
from katib_suggestion import oversized, wire
from katib_suggestion.backend import Backend
from katib_suggestion.batch import Batch, suggest_unique
from katib_suggestion.budgeted import degraded_labels, with_plan
from katib_suggestion.errors import BackendUnavailable, InvalidExperiment, InvalidRequest
from katib_suggestion.fixed import WithoutFixed
from katib_suggestion.model import Experiment, SuggestionRequest
from katib_suggestion.seeding import derive_seed
from katib_validators.budget import MAX_PARAMETERS
from katib_validators.costs import dry_run_fits, plan_call
from katib_validators.experiment import parse_experiment
from katib_validators.problems import Problem
from katib_validators.servable import check_sizes

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # far above any parallelTrialCount; a bigger count is a broken client
FALLBACK_LABEL = {"katib-suggest/origin": "uniform-fallback"}


def with_seed(experiment: Experiment) -> Experiment:
    """The user's random_state, or one derived from the experiment name (returned to Katib,
    which sends it back, so the sequence survives restarts either way)."""
    if experiment.settings.get("random_state") is not None:
        return experiment
    seed = derive_seed("experiment", experiment.name)
    return replace(experiment, settings={**experiment.settings, "random_state": seed})


class Suggester:
    """Serves one backend's algorithms; holds no per-experiment state."""

    def __init__(self, backend_name: str, backend: Backend):
        self.backend_name = backend_name
        self.backend = WithoutFixed(backend)

    def experiment(self, message: api_pb2.Experiment, running: bool = False) -> Experiment:
        """The typed experiment with its seed resolved; InvalidExperiment lists every problem. A ``running`` one
        (GetSuggestions) has maxTrialCount capped at its space's size: see ``oversized``."""
        problems = check_sizes(*wire.experiment_sizes(message, MAX_PARAMETERS))
        if problems:  # before building anything from a request too large to come from Katib
            raise InvalidExperiment(problems)
        doc = wire.experiment_document(message)
        experiment, problems = parse_experiment(doc, self.backend_name)
        if problems and running:  # an accepted Experiment fits its space, so only a refused one can be oversized
            lowered, size = oversized.capped(doc)
            if size is not None:
                experiment, problems = parse_experiment(lowered, self.backend_name)
        if problems:
            raise InvalidExperiment(problems)
        return with_seed(experiment)

    def validate(self, message: api_pb2.Experiment) -> Experiment:
        """Everything GetSuggestions would reject, rejected now (the only fail-fast point)."""
        experiment = self.experiment(message)
        if not dry_run_fits(self.backend_name, experiment):
            log.info("experiment %s: dry run skipped (its estimate exceeds Validate's budget)", experiment.name)
            return experiment
        try:  # a first suggestion proves the backend accepts the space and settings
            self.backend.suggest(SuggestionRequest(experiment, (), 1, experiment.settings["random_state"]))
        except BackendUnavailable as error:  # the server's fault: say so, still failing the Experiment at once
            raise InvalidExperiment([Problem("spec.algorithm.algorithmName", f"this suggestion server cannot serve "
                                             f"{experiment.algorithm}, whatever the Experiment says: {error}")]) \
                from error
        except Exception as error:  # noqa: BLE001 - reported to the user, logged with traceback
            log.exception("dry run of %s failed", experiment.algorithm)
            raise InvalidExperiment([Problem("spec.algorithm", f"{experiment.algorithm} cannot run on this "
                                             f"experiment: {type(error).__name__}: {error}")]) from error
        return experiment

    def suggest(self, request: api_pb2.GetSuggestionsRequest, facts: dict) -> api_pb2.GetSuggestionsReply:
        count = request.current_request_number
        facts["count"] = count
        if not 0 <= count <= MAX_BATCH:
            raise InvalidRequest(f"current_request_number must be between 0 and {MAX_BATCH}, got {count}")
        experiment = self.experiment(request.experiment, running=True)
        facts.update(experiment=experiment.name, algorithm=experiment.algorithm)
        history = wire.trials_to_history(request.trials, experiment.space, experiment.objective)
        facts.update(history=len(history.trials), skipped=len(history.skipped))
        if history.skipped:
            log.warning("experiment %s: left %d trial(s) out of the history: %s", experiment.name,
                        len(history.skipped), "; ".join(history.skipped[:5]))
        seed = experiment.settings["random_state"]
        new, repeated = self._within_the_space(experiment, history.trials, count,
                                               request.experiment.spec.max_trial_count)
        batch, plan = Batch([], 0), plan_call(self.backend_name, experiment, len(history.trials), new)
        if new:
            batch = suggest_unique(with_plan(self.backend, plan), SuggestionRequest(
                experiment, tuple(history.trials), new,
                seed=derive_seed(seed, request.total_request_number, len(request.trials)),
                suggested_before=max(request.total_request_number - count, len(request.trials)),
            ), model_points=plan.model_points if plan else None)
        facts.update(fallback=batch.fallback, degraded=".".join(plan.degraded) if plan else "")
        own, batch_labels = len(batch.points) - batch.fallback, degraded_labels(batch.labels, plan)
        labels = [batch_labels] * own + [{**batch_labels, **FALLBACK_LABEL}] * batch.fallback
        labels += [oversized.REPEAT_LABEL] * len(repeated)
        return wire.suggestions_reply(batch.points + repeated, experiment.space,
                                      request.experiment.spec.algorithm.algorithm_name, {"random_state": str(seed)},
                                      labels)

    @staticmethod
    def _within_the_space(experiment: Experiment, trials: list, count: int, max_trials: int) -> tuple[int, list]:
        """(new points to suggest, repeats): all new as a rule; for an oversized running Experiment (see
        ``oversized``) asking for more than are left, the untried ones and repeats of the best trials, and
        Exhausted once none is left."""
        space = experiment.space
        if not space.is_finite or 0 < max_trials <= space.cardinality():
            return count, []  # what Validate accepted: suggest_unique never runs short
        left = oversized.untried(space, trials)
        if left >= count:
            return count, []
        if left == 0:
            raise oversized.Exhausted(space.cardinality(), len(trials), count)
        log.warning("experiment %s: %d untried points left and %d asked for; the other %d repeat the best trials",
                    experiment.name, left, count, count - left)
        return left, oversized.repeats(trials, count - left, experiment.objective.maximize)
