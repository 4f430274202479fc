"""``katib-suggest run``: a Katib Experiment on this machine, driven the way Katib's controller drives it."""
