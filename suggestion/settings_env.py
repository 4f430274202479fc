"""Command-line defaults taken from KATIB_SUGGEST_<NAME> environment variables."""

from __future__ import annotations

import os


def env(name: str, default: str) -> str:
    return os.environ.get(f"KATIB_SUGGEST_{name}", default)


def optional_int(text: str) -> int | None:
    return int(text) if text else None
