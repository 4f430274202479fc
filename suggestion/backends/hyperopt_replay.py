"""Rebuild hyperopt's Trials from the request's history, with a constant liar for open points."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from katib_suggestion.backends.hyperopt_lib import JOB_STATE_DONE, STATUS_OK, Trials
from katib_suggestion.backends.hyperopt_space import SpaceCodec
from katib_suggestion.model import Trial, TrialState, Value


def losses(history: Sequence[Trial], maximize: bool) -> tuple[list[float], float]:
    """hyperopt minimises: one loss per trial, and the liar's loss for points without a result.

    * COMPLETED: the objective (negated when maximising).
    * PRUNED: its last observation is not a final result, and early stopping
      judged it unpromising, so it counts as no better than the worst completed
      trial (a pessimistic value; its own value when nothing has completed).
      It stays in the model as a bad example rather than being dropped, which
      keeps TPE away from the neighbourhood that was stopped.
    * PENDING (and each point already chosen for this batch): the constant liar,
      the worst loss known, so TPE ranks the point among the bad ones and looks
      elsewhere for the next point.
    * FAILED: also the liar, i.e. known-bad. hyperopt itself scores a failed
      evaluation as infinitely bad, and failures often belong to a region
      (too much memory, diverging learning rates) better avoided.

    TPE only ranks losses (best fraction vs the rest), so the worst finite
    loss behaves like infinity here while keeping the numbers printable.
    """
    sign = -1.0 if maximize else 1.0
    completed = [sign * t.value for t in history if t.state is TrialState.COMPLETED]
    worst_completed = max(completed, default=None)
    known: list[float | None] = []
    for trial in history:
        if trial.state is TrialState.COMPLETED:
            known.append(sign * trial.value)
        elif trial.state is TrialState.PRUNED:
            own = sign * trial.value
            known.append(own if worst_completed is None else max(own, worst_completed))
        else:
            known.append(None)
    liar = max((loss for loss in known if loss is not None), default=0.0)
    return [liar if loss is None else loss for loss in known], liar


class Replay:
    """A Trials object holding the history, to which batch points are added as pending."""

    def __init__(self, codec: SpaceCodec, history: Sequence[Trial], maximize: bool):
        self.codec = codec
        self.trials = Trials()
        trial_losses, self.liar = losses(history, maximize)
        self._insert([(t.params, loss) for t, loss in zip(history, trial_losses, strict=True)])

    @property
    def next_tid(self) -> int:
        return len(self.trials.trials)

    def add_pending(self, point: Mapping[str, Value]) -> None:
        self._insert([(point, self.liar)])

    def _insert(self, rows: Sequence[tuple[Mapping[str, Value], float]]) -> None:
        first = self.next_tid
        tids = list(range(first, first + len(rows)))
        miscs = [self._misc(tid, point) for tid, (point, _) in zip(tids, rows, strict=True)]
        results = [{"loss": loss, "status": STATUS_OK} for _, loss in rows]
        docs = self.trials.new_trial_docs(tids, [None] * len(rows), results, miscs)
        for doc in docs:
            doc["state"] = JOB_STATE_DONE
        # insert_trial_docs checks every document's keys (and converts it for MongoDB when bson is
        # installed): ours are built above in one shape, which tests/test_hyperopt_lib.py proves valid
        # and unchanged by those steps; the checks cost a twentieth of a 5,000-trial call
        self.trials._insert_trial_docs(docs)
        self.trials.refresh()

    def _misc(self, tid: int, point: Mapping[str, Value]) -> dict:
        vals = self.codec.to_vals(point)
        return {"tid": tid, "cmd": None, "workdir": None, "idxs": {name: [tid] for name in vals}, "vals": vals}
