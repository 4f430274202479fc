"""Deterministic seeds, so every answer is a pure function of the request."""

from __future__ import annotations

import hashlib

SEED_LIMIT = 2**32  # numpy and hyperopt both take seeds below this


def derive_seed(*parts: object) -> int:
    """A stable 32-bit seed from any printable parts (same parts, same seed, any process)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_LIMIT
