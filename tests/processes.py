"""Processes the tests and the benchmarks start: `alliance` from this venv, and their helpers.

Every process logs to a file (or pipes, for the caller to read), is waited for with a deadline,
and is stopped by its pid: SIGTERM, then SIGKILL when it has not exited after `STOP_TIMEOUT`.
Imported by tests/ as a package module and by bench/ scripts (which put the repository on
`sys.path`), so it needs nothing but the venv.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent  # the venv's bin directory (not resolved: keep the venv)
ALLIANCE = BIN / "alliance"
REPO = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class ProcessError(Exception):
    """A process ended too early, was not ready in time, or did not exit in time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any hub setting, plus `extra`.

    Kept: where GraphiQL's files live, so the server and `assets_ready()` in the tests agree.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL"
        and not (key.startswith("ALLIANCE_") and key != "ALLIANCE_GRAPHIQL_DIR")
    }
    # Workers started side by side each take a free port for their probes.
    env.update(
        {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200", "ALLIANCE_WORKER_PORT": "0", **extra}
    )
    return env


def stop(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM to the pid, SIGKILL if it has not exited after `timeout` s; its exit code."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    return process.returncode


@dataclass
class Started:
    """A process writing its stdout and stderr to `log_path`."""

    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        return stop(self.process, timeout)


def start(
    command: list[str], *, env: dict[str, str], cwd: Path, log_path: Path, session: bool = False
) -> Started:
    """Start `command` logging to `log_path`. With `session`, in a session of its own: a Ctrl-C
    at the terminal then reaches only the caller, which stops the process by its pid."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=session,
        )
    return Started(process, log_path)


@dataclass
class HubProcess(Started):
    """A running `alliance serve` and its address."""

    base_url: str


async def _wait_ready(hub: HubProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if not hub.alive():
                raise ProcessError(
                    f"`alliance serve` exited with {hub.process.returncode} before it was "
                    f"ready; its log:\n{hub.log()}"
                )
            try:
                response = await client.get("/readyz")
                if response.status_code == 200:
                    return
                last = f"/readyz answered {response.status_code}: {response.text}"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.1)
    hub.stop()
    raise ProcessError(
        f"`alliance serve` was not ready within {timeout:.0f} s ({last}); its log:\n{hub.log()}"
    )


async def serve(
    args: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    session: bool = False,
    timeout: float = READY_TIMEOUT,
    port: int | None = None,
) -> HubProcess:
    """Start `alliance serve <args> --host 127.0.0.1 --port <port or a free one>`; wait for
    /readyz 200."""
    port = port or free_port()
    command = [str(ALLIANCE), "serve", *args, "--host", "127.0.0.1", "--port", str(port)]
    started = start(command, env=env, cwd=cwd, log_path=log_path, session=session)
    hub = HubProcess(started.process, log_path, f"http://127.0.0.1:{port}")
    await _wait_ready(hub, timeout)
    return hub


def run_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 30.0
) -> subprocess.CompletedProcess:
    """Run `alliance <args>` to completion; a command that does not exit in time is an error."""
    try:
        return subprocess.run(
            [str(ALLIANCE), *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProcessError(
            f"`alliance {' '.join(args)}` did not exit within {timeout:.0f} s: {exc.output}"
        ) from None
