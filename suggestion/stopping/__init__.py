"""Katib's EarlyStopping service: rules from the trials' learning curves, and the Trial-status writer."""
