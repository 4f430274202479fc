"""Optimisation-quality regression gate: problems, runs, scores, baselines and reports."""
