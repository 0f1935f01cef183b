"""The processes the bench starts, and what it measures of them from outside.

Every process is started in a session of its own (a Ctrl-C at the terminal reaches only the
bench), remembered in `RUNNING` and stopped by its pid (`tests/processes.py`: SIGTERM, then
SIGKILL). `watch` polls a running loader every 0.1 s: its peak memory (VmHWM), the CPU of
every local PostgreSQL process (server and backends, from `/proc`), and the deadline.
"""

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests import processes

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RUNNING: set[subprocess.Popen] = set()


def spawn(command: list[str], **popen) -> subprocess.Popen:
    """Start `command` in a session of its own and remember it until it is stopped."""
    process = subprocess.Popen(command, text=True, start_new_session=True, **popen)
    RUNNING.add(process)
    return process


def stop(process: subprocess.Popen) -> None:
    """Stop a process this bench started, by its pid."""
    RUNNING.discard(process)
    processes.stop(process)


def stop_all(sparing: frozenset[subprocess.Popen] = frozenset()) -> None:
    for process in list(RUNNING - sparing):
        stop(process)


def peak_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def postgres_cpu_ticks() -> dict[int, int]:
    """utime + stime of every local process named postgres (server and backends), by pid."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if name.startswith("postgres"):
            parts = fields.split()
            found[int(entry.name)] = int(parts[11]) + int(parts[12])
    return found


@dataclass
class Watched:
    """What `watch` saw of one process: wall time, peak memory, PostgreSQL's CPU."""

    wall_s: float
    peak_kib: int
    postgres_cpu_s: float | None
    timed_out: bool


def watch(
    process: subprocess.Popen,
    *,
    timeout: float,
    postgres: bool,
    every_30_s: Callable[[float], None] | None = None,
) -> Watched:
    """Polls `process` until it exits, or stops it after `timeout` s (0: no limit).
    `every_30_s(elapsed)` is called every 30 s, to print progress."""
    started = shown = time.perf_counter()
    pg_first = postgres_cpu_ticks() if postgres else {}
    pg_last = dict(pg_first)
    peak = 0
    timed_out = False
    while process.poll() is None:
        peak = max(peak, peak_rss_kib(process.pid) or 0)
        if postgres:
            pg_last.update(postgres_cpu_ticks())
        now = time.perf_counter()
        if timeout and now - started > timeout:
            timed_out = True
            stop(process)
            break
        if every_30_s is not None and now - shown >= 30:
            shown = now
            every_30_s(now - started)
        time.sleep(0.1)
    wall = time.perf_counter() - started
    RUNNING.discard(process)
    pg_cpu = None
    if postgres:
        ticks = sum(ticks - pg_first.get(pid, 0) for pid, ticks in pg_last.items())
        pg_cpu = round(ticks / CLOCK_TICKS, 1)
    return Watched(round(wall, 2), peak, pg_cpu, timed_out)
