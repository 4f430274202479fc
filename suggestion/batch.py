"""Turn a backend's proposals into a batch with no repeats, or a clear exhaustion error."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from katib_suggestion.backend import Backend
from katib_suggestion.cancellation import checkpoint
from katib_suggestion.errors import SearchSpaceExhausted
from katib_suggestion.model import Point, PointKey, SearchSpace, SuggestionRequest, Trial, TrialState
from katib_suggestion.seeding import derive_seed

# Backends propose again with the accepted points as pending this many times
# before the remaining slots are filled with uniformly drawn unseen points.
BACKEND_ROUNDS = 4
# Finite spaces up to this size are enumerated when drawing unseen points.
ENUMERATE_LIMIT = 200_000
RANDOM_DRAWS = 10_000


@dataclass(frozen=True)
class Batch:
    points: list[Point]
    fallback: int  # how many (trailing) points came from the uniform fallback, not the backend
    labels: dict[str, str] = field(default_factory=dict)  # the backend's labels for the batch


def suggest_unique(backend: Backend, request: SuggestionRequest, model_points: int | None = None) -> Batch:
    """``request.count`` points, none equal to a trial's point or to each other; the backend is
    asked for at most ``model_points`` of them (the call's budget), the rest are drawn unseen."""
    space = request.experiment.space
    seen = set(request.taken_keys())
    size = space.cardinality()
    if size - len(seen) < request.count:
        raise SearchSpaceExhausted(size, len(seen), request.count)
    chosen: list[Point] = []
    labels: dict[str, str] = {}
    history = list(request.history)
    limit = request.count if model_points is None else min(model_points, request.count)
    for round_ in range(BACKEND_ROUNDS):
        wanted = limit - len(chosen)
        if wanted == 0:
            break
        checkpoint()
        seed = request.seed if round_ == 0 else derive_seed(request.seed, "round", round_)
        ask = replace(request, history=tuple(history), count=wanted, seed=seed, taken=frozenset(seen))
        proposal = backend.suggest(ask)
        labels.update(proposal.labels)
        for point in keep_unseen(space, seen, proposal.points[:wanted]):
            chosen.append(point)
            history.append(Trial(f"batch-{len(chosen)}", point, TrialState.PENDING))
    missing = request.count - len(chosen)
    if missing:
        rng = random.Random(derive_seed(request.seed, "fallback"))
        taken = [t.params for t in history]
        chosen += unseen_points(space, seen, taken, missing, rng)
    return Batch(chosen, missing, labels)


def keep_unseen(space: SearchSpace, seen: set[PointKey], points: list[Point]) -> list[Point]:
    """The points whose keys are not in ``seen`` (a trial's or an earlier point's), in order; each kept
    point's key is added to ``seen``."""
    kept = []
    for point in points:
        key = space.key(point)
        if key not in seen:
            seen.add(key)
            kept.append(point)
    return kept


def unseen_points(space: SearchSpace, seen: set[PointKey], taken: list[Point], count: int,
                  rng: random.Random) -> list[Point]:
    """``count`` points drawn uniformly among those not in ``seen`` (``taken``: the same points, as values)."""
    size = space.cardinality()
    if size <= ENUMERATE_LIMIT:
        # every dimension is enumerable (continuous doubles by their doubles): pick unseen positions
        used = {space.index_of(point) for point in taken}
        free = [i for i in range(size) if i not in used]
        return [space.point_at(i) for i in rng.sample(free, count)]
    points: list[Point] = []
    for _ in range(RANDOM_DRAWS):
        point = space.from_unit([rng.random() for _ in range(len(space))])
        key = space.key(point)
        if key not in seen:
            seen.add(key)
            points.append(point)
            if len(points) == count:
                return points
    # A space of more than ENUMERATE_LIMIT points this crowded is not reachable by a real experiment.
    raise SearchSpaceExhausted(size, len(seen), count - len(points))
