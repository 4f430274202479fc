"""SIGTERM and Ctrl-C reach a waiting main thread even when the kernel hands them to another thread.

CPython runs Python signal handlers only in the main thread; a process-directed signal may be
delivered to any thread, and a main thread blocked in an untimed wait then never ran the handler
(python/cpython#85300): `serve` ignored SIGTERM until SIGKILL. Each child here sends the signal to
one of its own non-main threads with pthread_kill, which is that delivery made certain.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from katib_suggestion.quality.latency import free_port

# A thread that waits until `ready()` is true, then signals itself (not the main thread).
SIGNAL_FROM_ANOTHER_THREAD = """
import signal, threading, time

# Python leaves SIGINT ignored when its parent ignored it (a background job of a non-interactive
# shell, as CI may run us): Ctrl-C's own handler, as an interactive start would have it
signal.signal(signal.SIGINT, signal.default_int_handler)

def signal_from_another_thread(ready, signum):
    def send():
        while not ready():
            time.sleep(0.05)
        signal.pthread_kill(threading.get_ident(), signum)
    threading.Thread(target=send, name="not-main", daemon=True).start()
"""

SERVING = """
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

def serving(address):
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING
"""


def run_child(body: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``body`` in a fresh interpreter (signal handlers belong to its main thread), with
    signal_from_another_thread and serving defined. A child that never ran its handler is killed at
    ``timeout`` and fails the test."""
    program = SIGNAL_FROM_ANOTHER_THREAD + SERVING + textwrap.dedent(body)
    try:
        return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"the signal sent to a non-main thread was never handled:\n{expired.stdout}\n{expired.stderr}")


@pytest.mark.parametrize("backend", ["optuna", "early-stopping"])
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_serve_stops_gracefully_when_the_signal_lands_on_another_thread(backend, signum):
    port = free_port()
    result = run_child(f"""
        import sys
        from katib_suggestion.cli import main
        signal_from_another_thread(lambda: serving("127.0.0.1:{port}"), signal.{signum})
        sys.exit(main(["serve", "--backend", "{backend}", "--host", "127.0.0.1", "--port", "{port}",
                       "--drain-period", "0"]))
    """)
    assert result.returncode == 0, result.stderr
    assert f"received {signum}: NOT_SERVING" in result.stderr
    assert result.stderr.rstrip().endswith("stopped"), result.stderr


def test_the_db_manager_double_stops_when_the_signal_lands_on_another_thread():
    port = free_port()
    result = run_child(f"""
        import sys
        from katib_suggestion.testing.dbmanager import main
        signal_from_another_thread(lambda: serving("127.0.0.1:{port}"), signal.SIGTERM)
        sys.exit(main(["--host", "127.0.0.1", "--port", "{port}"]))
    """)
    assert result.returncode == 0, result.stderr


def test_ctrl_c_interrupts_a_wait_for_the_first_finished_future():
    """The local runner and the benchmark pool wait for trials or runs with first_completed: a Ctrl-C
    must not wait for the next trial to end (an hour on a GPU)."""
    result = run_child("""
        from concurrent.futures import Future
        from katib_suggestion.stop_signal import first_completed
        waiting = []
        signal_from_another_thread(lambda: waiting and time.sleep(0.5) is None, signal.SIGINT)
        try:
            waiting.append(True)
            first_completed([Future()])  # never completes
        except KeyboardInterrupt:
            print("interrupted")
    """)
    assert result.stdout.strip() == "interrupted", result.stderr


def test_first_completed_returns_what_is_done():
    from concurrent.futures import Future

    from katib_suggestion.stop_signal import first_completed

    done, waiting = Future(), Future()
    done.set_result(1)
    assert first_completed([done, waiting]) == {done}
    assert first_completed([]) == set()


def test_ctrl_c_interrupts_a_wait_for_futures_in_completion_order():
    """The benchmark pools read their runs with in_completion_order."""
    result = run_child("""
        from concurrent.futures import Future
        from katib_suggestion.stop_signal import in_completion_order
        waiting = []
        signal_from_another_thread(lambda: waiting and time.sleep(0.5) is None, signal.SIGINT)
        try:
            waiting.append(True)
            list(in_completion_order([Future()]))  # never completes
        except KeyboardInterrupt:
            print("interrupted")
    """)
    assert result.stdout.strip() == "interrupted", result.stderr


def test_in_completion_order_yields_each_future_once_as_it_completes():
    import threading
    from concurrent.futures import Future

    from katib_suggestion.stop_signal import in_completion_order

    first, second, third = Future(), Future(), Future()
    second.set_result(2)
    threading.Timer(0.3, first.set_result, (1,)).start()
    threading.Timer(0.6, third.set_result, (3,)).start()
    assert list(in_completion_order([first, second, third])) == [second, first, third]
    assert list(in_completion_order([])) == []
