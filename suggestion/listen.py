"""Bind the server's port, failing with one clear sentence (and nothing from gRPC's C core) when it cannot."""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading

_REASONS = {
    errno.EADDRINUSE: "the port is in use by another process; stop it or choose another --port",
    errno.EADDRNOTAVAIL: "the address is not one of this machine's; use 0.0.0.0 (every interface) or one of its "
                         "addresses",
    errno.EACCES: "binding a port below 1024 needs privileges; choose a port from 1024 up, such as 6789",
}


def add_port(server, host: str, port: int) -> int:
    """``server.add_insecure_port`` for host:port; OSError with the reason when it cannot listen.

    The C core logs its own error line before failing; our check runs first
    and finds every ordinary cause (port taken, foreign address), and whatever
    the core still writes while binding is kept out of the terminal unless
    the bind succeeds.
    """
    reason = _probe(host, port)
    if reason is None:
        bound, noise = _quietly(lambda: server.add_insecure_port(f"{_bracketed(host)}:{port}"))
        if bound:
            sys.stderr.write(noise)
            return bound
        # the core's line reads "E1130 01:19:24.6 123 add_port.cc:83] Failed to add port ...": keep the words
        reason = noise.strip().splitlines()[-1].split("] ", 1)[-1] if noise.strip() else "gRPC could not bind it"
    raise OSError(f"cannot listen on {host}:{port}: {reason}")


def _probe(host: str, port: int) -> str | None:
    """Why a plain socket cannot bind host:port (as gRPC would: with SO_REUSEADDR), or None."""
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        return f"{host!r} is not a host name or address here ({error})"
    for family, kind, protocol, _, address in addresses:
        try:
            with socket.socket(family, kind, protocol) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
        except OSError as error:
            return _REASONS.get(error.errno, error.strerror or str(error))
    return None


def _quietly(bind) -> tuple[int, str]:
    """Run ``bind`` with file descriptor 2 captured; returns its result and what was written.

    Captured through a pipe drained by a thread, not a temporary file: the server must
    start on a read-only root filesystem with no writable /tmp, as our katib-config
    entries run it (readOnlyRootFilesystem, and Katib cannot mount a volume there).
    """
    read_end, write_end = os.pipe()
    chunks: list[bytes] = []
    drain = threading.Thread(target=_drain, args=(read_end, chunks), name="bind-stderr", daemon=True)
    drain.start()
    saved = os.dup(2)
    sys.stderr.flush()
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        result = bind()
    except RuntimeError:
        result = 0  # older grpcio raise instead of returning port 0
    finally:
        os.dup2(saved, 2)  # the pipe's last write end closes here: the drain sees its end
        os.close(saved)
    drain.join()
    os.close(read_end)
    return result, b"".join(chunks).decode(errors="replace")


def _drain(fd: int, chunks: list[bytes]) -> None:
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
