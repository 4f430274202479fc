"""The convergence plot of a local run: every trial's value and the best so far, failed trials in a strip."""

from __future__ import annotations

from pathlib import Path

from katib_suggestion.local.trials import Finished


def convergence_plot(completed: list[Finished], maximize: bool, metric: str, title: str, path: Path) -> str:
    """Draw ``path`` from the succeeded and failed trials, in the order they ended; returns a note for the user."""
    path.unlink(missing_ok=True)  # never leave an earlier run's plot next to this run's results
    xs, values, curve = _series(completed, maximize)
    if not values:
        return "no plot: no trial succeeded"
    try:
        import matplotlib
    except ImportError:
        return "no plot: matplotlib is missing; install it with pip install 'katib-suggest[bench]'"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    failed = [i for i, item in enumerate(completed, 1) if item.outcome.value is None]
    if failed:
        figure, (axes, strip) = plt.subplots(2, 1, figsize=(7, 4.6), sharex=True,
                                             gridspec_kw={"height_ratios": [6, 1]})
    else:
        figure, axes = plt.subplots(figsize=(7, 4))
    axes.scatter(xs, values, s=18, color="0.6", label="trial")
    stopped = [(i, item.outcome.value) for i, item in enumerate(completed, 1)
               if item.outcome.early_stopped and item.outcome.value is not None]
    if stopped:  # their value is what they reached before their rules stopped them
        axes.scatter(*zip(*stopped, strict=True), s=26, marker="v", color="tab:orange", label="early stopped")
    axes.step(range(1, len(curve) + 1), [float("nan") if v is None else v for v in curve], where="post",
              color="tab:blue", linewidth=2, label="best so far")
    # losses spanning decades (a bad trial can be 100x the best) would flatten the best-so-far line
    log = min(values) > 0 and max(values) / min(values) > 50
    axes.set(title=title, ylabel=f"{metric} (log scale)" if log else metric, yscale="log" if log else "linear")
    axes.grid(alpha=0.3)
    axes.legend()
    bottom = axes
    if failed:
        # a failed trial has no value: it gets a place on the trial axis, not a made-up height
        strip.scatter(failed, [0] * len(failed), marker="x", color="tab:red")
        strip.set(yticks=[], ylabel="failed", ylim=(-1, 1))
        strip.grid(axis="x", alpha=0.3)
        bottom = strip
    bottom.set(xlabel="trials finished", xlim=(0.5, len(completed) + 0.5))
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return f"convergence plot: {path}"


def _series(completed: list[Finished], maximize: bool) -> tuple[list[int], list[float], list[float | None]]:
    """Positions and values of successful trials, and the best value so far after each trial."""
    xs, values, best, curve = [], [], None, []
    for index, item in enumerate(completed, 1):
        value = item.outcome.value
        if value is not None:
            xs.append(index)
            values.append(value)
            best = value if best is None else (max if maximize else min)(best, value)
        curve.append(best)
    return xs, values, curve
