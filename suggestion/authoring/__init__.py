"""Writing Experiments: what `katib-suggest init` builds from a few inputs, checked by the validators' rules."""
