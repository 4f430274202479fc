"""What this plugin serves: algorithm names and settings, as data (importing it must stay cheap)."""

from katib_suggestion.plugin import (
    INTERFACE_VERSION,
    LINEAR,
    RANDOM_STATE,
    Algorithm,
    BackendPlugin,
    Setting,
    SettingsSchema,
    names,
)

_DE = SettingsSchema((
    Setting("popsize", "int", 10, "population size: the best trials so far that new points are bred from",
            low=4, high=1000, aliases=("population_size",)),
    Setting("crossover", "choice", "twopoints",
            "how a mutant and its parent mix: twopoints, onepoint, dimension (each coordinate at rate 1/d) "
            "or random (each coordinate with probability 1/2)",
            choices=("twopoints", "onepoint", "dimension", "random")),
    RANDOM_STATE,
))

PLUGIN = BackendPlugin(
    name="nevergrad",
    algorithms=(
        Algorithm("de", "nevergrad", names("nevergrad", "de"), _DE,
                  "differential evolution (nevergrad): breeds new points from the best trials so far, "
                  "robust to noise and to many parallel trials", distributions=LINEAR),
    ),
    backend="katib_suggest_nevergrad.backend:BACKEND",
    interface=INTERFACE_VERSION,
    requires=("nevergrad",),
    # nevergrad imports scipy.stats, pandas and scikit-learn: ~220 MiB resident once loaded
    resources={"requests": {"cpu": "50m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "384Mi"}},
    # `katib-suggest benchmark` compares the plugin with nevergrad used directly (its reference arm)
    reference="katib_suggest_nevergrad.reference:DirectDE",
    # A published plugin names the repository its release pushes the image to; katib-suggest katib-config
    # then tags it with this package's version. This example is not published: give
    # --image nevergrad=REGISTRY/katib-suggest-nevergrad to katib-config after building it (README).
    # image="ghcr.io/you/katib-suggest-nevergrad",
)
