"""katib-suggest plugin: nevergrad's differential evolution as a Katib suggestion service."""
