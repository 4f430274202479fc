"""`katib-suggest serve` as the image runs it: the corpus answers unchanged, and OpenSSL never mapped."""

from __future__ import annotations

import grpc
import pytest
from katib_suggestion.collector import YOUNG_THRESHOLD
from katib_suggestion.lean_imports import without_openssl
from katib_suggestion.quality.latency import free_port
from replay_corpus import load, reply_document, request_of
from servers import ServerProcess
from test_stop_signal import run_child

ENTRIES = load()


def _mapped(pid: int) -> str:
    with open(f"/proc/{pid}/maps") as maps:
        return maps.read()


@pytest.mark.parametrize("backend", ["optuna", "hyperopt"])
def test_the_server_answers_the_corpus_and_never_maps_openssl(backend):
    entries = [e for e in ENTRIES if e["backend"] == backend and request_of(e).current_request_number == 4]
    server = ServerProcess(backend)
    try:
        server.wait_serving(60)
        with grpc.insecure_channel(server.address) as channel:
            for entry in entries:
                reply = server.stub(channel).GetSuggestions(request_of(entry), timeout=120)
                assert reply_document(reply) == entry["reply"], entry["id"]
        mapped = _mapped(server.process.pid)
    finally:
        code, output = server.terminate()
    assert code == 0, output
    assert "libcrypto" not in mapped and "libssl" not in mapped


def test_openssl_can_still_be_imported_afterwards():
    import subprocess
    import sys

    probe = ("import sys\nfrom katib_suggestion.lean_imports import without_openssl\n"
             "with without_openssl():\n    import asyncio, hashlib, hmac\n"
             "assert hashlib.sha256(b'x').hexdigest().startswith('2d711642')\n"
             "import ssl\nprint(ssl.OPENSSL_VERSION.split()[0])")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "OpenSSL"


def test_a_module_loaded_already_is_left_alone():
    import sys

    before = sys.modules.get("hashlib")
    with without_openssl():
        assert sys.modules.get("hashlib") is before


@pytest.mark.parametrize("backend", ["optuna", "early-stopping"])
def test_serve_settles_the_collector_once_what_it_serves_is_loaded(backend):
    """collector.settle: what is loaded is frozen and young collections run every 10,000 objects, in the
    process the image runs (`serve` through the CLI), not only where a test calls it."""
    port = free_port()
    result = run_child(f"""
        import gc, sys
        from katib_suggestion.cli import main
        def report():
            if not serving("127.0.0.1:{port}"):
                return False
            print("threshold", gc.get_threshold()[0], "frozen", gc.get_freeze_count() > 0, flush=True)
            return True
        signal_from_another_thread(report, signal.SIGTERM)
        sys.exit(main(["serve", "--backend", "{backend}", "--host", "127.0.0.1", "--port", "{port}",
                       "--drain-period", "0"]))
    """)
    assert result.returncode == 0, result.stderr
    assert f"threshold {YOUNG_THRESHOLD} frozen True" in result.stdout, result.stdout + result.stderr
