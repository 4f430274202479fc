"""Pure checks of an Experiment: each returns every problem found, never raises."""

from katib_validators.problems import Problem

__all__ = ["Problem"]
