"""`alliance serve` and the other commands as the e2e tests run them (see `tests/processes`).

Every server is started as `alliance serve ... --host 127.0.0.1 --port <free>` from the venv
that runs the tests, and stopped by its pid: SIGTERM, then SIGKILL after 10 s. A process that
does not start, or a command that does not end, fails the test with its log.
"""

from pathlib import Path

import pytest

from tests import processes
from tests.processes import ALLIANCE, REPO, HubProcess, clean_env, free_port

__all__ = [
    "ALLIANCE",
    "REPO",
    "HubProcess",
    "clean_env",
    "free_port",
    "make_key",
    "run_cli",
    "start",
]


async def start(
    args: list[str], env: dict[str, str], cwd: Path, log_path: Path, port: int | None = None
) -> HubProcess:
    """Start `alliance serve <args> --host 127.0.0.1 --port <port or a free one>` and wait
    for /readyz 200."""
    try:
        return await processes.serve(args, env=env, cwd=cwd, log_path=log_path, port=port)
    except processes.ProcessError as exc:
        pytest.fail(str(exc))


def run_cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 30.0):
    """Run `alliance <args>` to completion; a command that does not exit in time fails."""
    try:
        return processes.run_cli(*args, env=env, cwd=cwd, timeout=timeout)
    except processes.ProcessError as exc:
        pytest.fail(str(exc))


def make_key(name: str, role: str, *, env: dict[str, str], cwd: Path) -> str:
    """`alliance keys create <name> --role <role>`; the token it prints (once, last)."""
    made = run_cli("keys", "create", name, "--role", role, env=env, cwd=cwd)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]
