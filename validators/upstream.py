"""Upstream Katib's algorithm names, and the image its default katib-config serves each from."""

from __future__ import annotations

# Katib v0.16 to v0.19, manifests/v1beta1/installs/*/katib-config.yaml: name -> image suffix
# (ghcr.io/kubeflow/katib/suggestion-<suffix>); where we serve a name from several backends,
# an upstream name keeps upstream's backend.
UPSTREAM_BACKENDS = {
    "random": "hyperopt", "tpe": "hyperopt", "grid": "optuna", "multivariate-tpe": "optuna",
    "bayesianoptimization": "skopt", "cmaes": "goptuna", "sobol": "goptuna",
    "hyperband": "hyperband", "enas": "enas", "darts": "darts", "pbt": "pbt",
}


def keep_upstream_message(name: str) -> str | None:
    """What to tell a user whose experiment names one of upstream's algorithms that we do not
    serve (hyperband, enas, darts, pbt); None for any other name."""
    backend = UPSTREAM_BACKENDS.get(name)
    if backend is None or backend in ("hyperopt", "optuna", "skopt", "goptuna"):
        return None
    return (f"{name} is one of upstream Katib's own algorithms, not served by katib-suggest: keep upstream's "
            f"image for it in katib-config (ghcr.io/kubeflow/katib/suggestion-{backend}; "
            "katib-suggest katib-config leaves that entry as it is)")
