"""Keep OpenSSL, which a suggestion server never uses, out of its memory: Katib gives the pod 100Mi."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# Python's two doors to OpenSSL: asyncio (which grpc loads) imports ssl for TLS, hashlib imports
# _hashlib for its hashes. Katib calls in plain text, and every hash we take has a built-in
# implementation giving the same digest.
OPENSSL_MODULES = ("ssl", "_hashlib")


@contextmanager
def without_openssl() -> Iterator[None]:
    """Import the server stack as on a Python built without OpenSSL: asyncio then leaves TLS out
    and hashlib uses its built-in hashes, and the process never maps OpenSSL (4.5 MiB in the optuna
    image's environment, measured). Afterwards ``import ssl`` works again for whoever needs it (the
    metrics endpoint, an HTTPS client); only asyncio keeps no TLS in this process. A module that is
    loaded already stays as it is."""
    kept_out = [name for name in OPENSSL_MODULES if name not in sys.modules]
    for name in kept_out:
        sys.modules[name] = None  # the import system's "known to be missing"
    try:
        import hashlib  # noqa: F401 - both look for OpenSSL once, when first imported:
        import hmac  # noqa: F401 - now, so numpy.random (secrets, hmac) later finds them settled

        yield
    finally:
        for name in kept_out:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
