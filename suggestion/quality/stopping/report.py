"""The steps-vs-regret table of the early-stopping benchmark, each arm paired with its own no-stopping arm."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from katib_suggestion.quality.stopping.bench import StopResult
from katib_suggestion.quality.stopping.curves import CURVE_PROBLEMS
from katib_suggestion.quality.stopping.reference_pruners import OPTUNA_ARMS

ALPHA = 0.05  # one-sided: is the arm's final regret worse than without stopping?


def baseline_of(arm: str) -> str:
    """The arm whose trials all run to the end, with the same proposer (our server, or optuna direct)."""
    return "optuna-none" if arm in OPTUNA_ARMS else "none"


@dataclass(frozen=True)
class Row:
    problem: str
    algorithm: str
    arm: str
    seeds: int
    epochs_share: float  # epochs spent / epochs of the baseline arm, mean over seeds
    regret: float  # mean normalised final regret
    regret_change: float  # mean paired difference to the baseline arm (positive: worse)
    p_worse: float  # one-sided Wilcoxon signed-rank p of "worse than the baseline arm"
    stopped: float  # trials stopped per run

    def cells(self) -> list[str]:
        saved = f"{100 * (1 - self.epochs_share):.0f}%"
        return [self.problem, self.algorithm, self.arm, str(self.seeds), f"{100 * self.epochs_share:.0f}%", saved,
                f"{self.regret:.4f}", f"{self.regret_change:+.4f}", f"{self.p_worse:.3f}",
                "yes" if self.p_worse < ALPHA else "no", f"{self.stopped:.1f}"]


HEADER = ["problem", "algorithm", "arm", "seeds", "epochs", "saved", "regret", "vs no stop", "p(worse)",
          "worse?", "stopped"]


def rows(results: list[StopResult]) -> list[Row]:
    by_key: dict[tuple, dict[int, StopResult]] = defaultdict(dict)
    for result in results:
        t = result.task
        by_key[t.problem, t.algorithm, t.arm][t.seed] = result
    found = []
    for (problem, algorithm, arm), runs in by_key.items():
        base = by_key.get((problem, algorithm, baseline_of(arm)), {})
        seeds = sorted(set(runs) & set(base))
        if not seeds:
            continue
        regret = CURVE_PROBLEMS[problem].normalised_regret
        ours = [regret(runs[s].final) for s in seeds]
        theirs = [regret(base[s].final) for s in seeds]
        found.append(Row(problem, algorithm, arm, len(seeds),
                         statistics.fmean(runs[s].epochs / base[s].epochs for s in seeds),
                         statistics.fmean(ours), statistics.fmean(a - b for a, b in zip(ours, theirs, strict=True)),
                         _p_worse(ours, theirs), statistics.fmean(runs[s].stopped for s in seeds)))
    return found


def _p_worse(ours: list[float], theirs: list[float]) -> float:
    from scipy.stats import wilcoxon

    differences = [a - b for a, b in zip(ours, theirs, strict=True)]
    if all(d == 0 for d in differences):
        return 1.0
    return float(wilcoxon(differences, alternative="greater", zero_method="zsplit").pvalue)


def markdown(found: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in found]
    return "\n".join(lines)
