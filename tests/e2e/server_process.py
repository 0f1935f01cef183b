"""Starting `alliance serve` as a real process and stopping it by its pid.

Every server is started as `alliance serve ... --host 127.0.0.1 --port <free>` from the venv
that runs the tests, and stopped by its pid: SIGTERM, then SIGKILL after 10 s.
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
import pytest

BIN = Path(sys.executable).parent  # the venv's bin directory (not resolved: keep the venv)
ALLIANCE = BIN / "alliance"
REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


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
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200", **extra})
    return env


@dataclass
class HubProcess:
    """A running `alliance serve`, its address and its log (stdout and stderr)."""

    process: subprocess.Popen
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)


async def _wait_ready(hub: HubProcess) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer yet"
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not hub.alive():
                pytest.fail(
                    f"`alliance serve` exited with {hub.process.returncode} before it was ready; "
                    f"its log:\n{hub.log()}"
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
    pytest.fail(
        f"`alliance serve` was not ready within {READY_TIMEOUT:.0f} s ({last});"
        f" its log:\n{hub.log()}"
    )


async def start(args: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> HubProcess:
    """Start `alliance serve <args> --host 127.0.0.1 --port <free>` and wait for /readyz 200."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(ALLIANCE), "serve", *args, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    hub = HubProcess(process, f"http://127.0.0.1:{port}", log_path)
    await _wait_ready(hub)
    return hub


def run_cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 30.0):
    """Run `alliance <args>` to completion; a command that does not exit in time fails."""
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
        pytest.fail(
            f"`alliance {' '.join(args)}` did not exit within {timeout:.0f} s: {exc.output}"
        )
