"""katib-suggest: hyperparameter suggestion services for Kubeflow Katib."""

__version__ = "0.1.0"
