"""Closest-match hints for misspelt names: "did you mean n_startup_trials?"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.75  # difflib ratio: n_startup_trial -> n_startup_trials, maximise -> maximize; bogus is not gpus (0.67)


def closest(name: object, known: Iterable[str]) -> str | None:
    """The known name closest to ``name`` (ignoring case, '-' and '_'), or None when none is close."""
    if not isinstance(name, str) or not name:
        return None
    by_key = {_key(k): k for k in known}
    if _key(name) in by_key:
        return by_key[_key(name)]
    found = difflib.get_close_matches(_key(name), list(by_key), n=1, cutoff=CUTOFF)
    return by_key[found[0]] if found else None


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """" (did you mean X?)" for the closest known name, or "": follows the clause that says what is wrong."""
    match = closest(name, known)
    return f" (did you mean {match}?)" if match is not None and match != name else ""


def _key(name: str) -> str:
    return name.lower().replace("-", "_")
