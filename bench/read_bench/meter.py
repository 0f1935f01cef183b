"""What a measured window cost in CPU, read outside the servers from /proc.

- A server's CPU: user + system time of its process and every descendant, plus the time of the
  children they have already waited for (`cutime`, `cstime`), so a worker that exits during a
  window still counts.
- PostgreSQL's CPU: user + system time of the backends connected to the bench database, found
  by `pg_stat_activity.pid` (the servers keep their pools open, so the same backends serve the
  whole window; a backend that exits inside it is counted in `backends_gone`, its last part
  missing).

Not read here: PostgreSQL's own transaction counts (`pg_stat_database`). A backend publishes
them when it goes idle, at most once a second and otherwise 10 s later, so a reading at a
window's edge misses or adds a second's worth; statements are counted on the wire instead
(`wire.py`).

Linux only, and PostgreSQL must run on this machine (its backends' /proc entries are read).
"""

import os
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # proc(5): "pid (comm) state ppid …"; comm may hold spaces, so split after the last ")".
    return text.rpartition(")")[2].split()


def process_cpu(pid: int, reaped: bool = False) -> float | None:
    """CPU seconds of one process (utime + stime); with `reaped`, plus its waited-for children."""
    fields = _stat(pid)
    if fields is None:
        return None
    # Fields 14-17 of proc(5), counted from the state field (3) that follows the ")".
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu(root: int) -> float:
    """CPU seconds of a process, its descendants and the children they have reaped."""
    return sum(process_cpu(pid, reaped=True) or 0.0 for pid in descendants(root))


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (`postgresql+asyncpg://…`) as asyncpg and node-postgres
    read it (`postgresql://…`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load_average() -> list[float]:
    return [float(n) for n in Path("/proc/loadavg").read_text().split()[:3]]


class PostgresMeter:
    """Finds the bench database's backends through a connection to another database (the
    admin one), so the readings add no backend of their own to what they measure."""

    def __init__(self, admin_dsn: str, database: str):
        self.admin_dsn, self.database = admin_dsn, database
        self.connection: asyncpg.Connection | None = None

    async def __aenter__(self) -> "PostgresMeter":
        self.connection = await asyncpg.connect(self.admin_dsn, timeout=10)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.connection.close()

    async def backends(self) -> dict[str, float]:
        """CPU seconds so far of each backend connected to the bench database, by pid."""
        rows = await self.connection.fetch(
            "select pid from pg_stat_activity"
            " where datname = $1 and backend_type = 'client backend'",
            self.database,
        )
        cpu = {str(row["pid"]): process_cpu(row["pid"]) for row in rows}
        return {pid: seconds for pid, seconds in cpu.items() if seconds is not None}


def backend_cpu(before: dict[str, float], after: dict[str, float]) -> tuple[float, int]:
    """CPU seconds the bench database's backends used between two readings, and how many
    backends of the first reading were gone at the second (their last part is missing)."""
    used, gone = 0.0, 0
    for pid, cpu in after.items():
        used += cpu - before.get(pid, 0.0)
    for pid in before:
        gone += pid not in after
    return used, gone
