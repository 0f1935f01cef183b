"""`alliance worker` answers probes on a port of its own: `/healthz` while it lives, `/metrics`
with the sync's counters; a port it cannot take stops it with a message naming the setting."""

import socket
import time

import httpx
import pytest

from tests.processes import ALLIANCE, clean_env, free_port, start

from .server_process import run_cli


@pytest.fixture
async def database(databases):
    made = await databases.create()
    await made.engine.dispose()
    return made


def until_healthy(url: str, worker, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.alive(), worker.log()
        try:
            return httpx.get(f"{url}/healthz", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(
        f"the worker's /healthz did not answer within {timeout} s:\n{worker.log()}"
    )


def test_a_worker_answers_healthz_and_metrics_on_its_own_port_and_stops_cleanly(database, tmp_path):
    port = free_port()
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_WORKER_PORT=str(port))
    worker = start([str(ALLIANCE), "worker"], env=env, cwd=tmp_path, log_path=tmp_path / "w.log")
    try:
        url = f"http://127.0.0.1:{port}"
        health = until_healthy(url, worker)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        metrics = httpx.get(f"{url}/metrics")
        assert metrics.status_code == 200 and "text/plain" in metrics.headers["content-type"]
        assert "alliance_sync_runs_total" in metrics.text
        assert httpx.get(f"{url}/graphql").status_code == 404
        assert httpx.post(f"{url}/healthz").status_code == 405
        with socket.create_connection(("127.0.0.1", port)) as silent:  # sends nothing at all
            silent.settimeout(10)
            assert silent.recv(1) == b""  # let go, and the worker goes on
        assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        code = worker.stop()
    assert code == 0, worker.log()


def test_a_worker_whose_port_is_taken_says_which_setting_to_change(database, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(DATABASE_URL=database.url, ALLIANCE_WORKER_PORT=str(port))
        result = run_cli("worker", env=env, cwd=tmp_path)
    said = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, said
    assert "ALLIANCE_WORKER_PORT" in said and "Traceback" not in said, said
