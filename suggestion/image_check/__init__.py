"""The image check: every image built, started with its katib-config entry's settings and driven as Katib does."""
