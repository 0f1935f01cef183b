"""The peers the hub is measured against, both on PostgreSQL only: dlt loading the same feed
file with a merge on (type, id), first into an empty database and then again (the re-sync),
and the COPY floor (`copy_child.py`). Each load is a child process watched like the hub's
(`watch.py`: peak memory, PostgreSQL's CPU, the deadline) and checked by counting the rows it
left.

dlt is no dependency of the project: `dlt_python` makes a venv of its own under
`bench/.peers/dlt/` (git-ignored) and installs the pinned versions there with pip, once.
"""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from sync_bench import BENCH, watch
from tests import processes

HERE = Path(__file__).resolve().parent
DLT_VERSION = "1.31.0"
# What installs here with it: psycopg2-binary is dlt[postgres]'s driver, ijson the streaming
# parser (its yajl2_c backend, as in the hub's parser).
DLT_REQUIREMENTS = (f"dlt[postgres]=={DLT_VERSION}", "psycopg2-binary==2.9.13", "ijson==3.6.0")
DLT_VENV = BENCH / ".peers" / "dlt"
INSTALL_TIMEOUT = 900


def dlt_python() -> Path:
    """The python of dlt's venv, made and installed the first time (bounded in time)."""
    python = DLT_VENV / "bin" / "python"
    if dlt_version(python) == DLT_VERSION:
        return python
    print(f"peers: installing {', '.join(DLT_REQUIREMENTS)} into {DLT_VENV} ...", flush=True)
    DLT_VENV.parent.mkdir(exist_ok=True)
    # A venv made from this venv's python is based on the same interpreter, not on this venv.
    subprocess.run(
        [sys.executable, "-m", "venv", "--clear", str(DLT_VENV)], check=True, timeout=120
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + list(DLT_REQUIREMENTS),
        check=True,
        timeout=INSTALL_TIMEOUT,
    )
    if dlt_version(python) != DLT_VERSION:
        raise SystemExit(f"dlt {DLT_VERSION} did not install into {DLT_VENV}")
    return python


def dlt_version(python: Path) -> str | None:
    if not python.exists():
        return None
    found = subprocess.run(
        [str(python), "-c", "import dlt, ijson, psycopg2; print(dlt.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return found.stdout.strip() if found.returncode == 0 else None


def plain_url(url: str) -> str:
    """`url` for libpq and asyncpg: `postgresql://`, without SQLAlchemy's driver name."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def dlt_url(url: str) -> str:
    """`url` for dlt, which will not connect without a password: when the URL has none (the
    local server trusts loopback, so it is not checked), a placeholder."""
    parsed = make_url(plain_url(url))
    if parsed.password is None:
        parsed = parsed.set(password="unused")
    return parsed.render_as_string(hide_password=False)


def run_load(command: list[str], *, env: dict, folder: Path, name: str, timeout: float) -> dict:
    """Runs one loader process to its end (or `timeout`), watched from outside; the figures it
    printed and those seen from outside."""
    out, log = folder / f"{name}.out", folder / f"{name}.log"
    with out.open("w") as stdout, log.open("w") as stderr:
        process = watch.spawn(command, stdout=stdout, stderr=stderr, cwd=folder, env=env)
        seen = watch.watch(process, timeout=timeout, postgres=True)
    row = {
        "process_wall_s": seen.wall_s,
        "postgres_cpu_s": seen.postgres_cpu_s,
        "peak_mib_polled": seen.peak_kib / 1024,
        "timed_out": seen.timed_out,
    }
    if seen.timed_out:
        return row | {"status": f"timed out ({timeout:g} s)", "peak_mib": seen.peak_kib / 1024}
    lines = out.read_text().splitlines()
    try:
        said = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"{name}: the loader exited with {process.returncode}:\n{tail}") from None
    return row | said | {"status": "succeeded", "peak_mib": said["peak_rss_kib"] / 1024}


async def count_rows(url: str, table: str) -> int:
    connection = await asyncpg.connect(plain_url(url))
    try:
        return await connection.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await connection.close()


def finish(row: dict, url: str, table: str, total: int, label: str) -> dict:
    """Prints the load's line and checks it left `total` rows in `table`."""
    row["problems"] = []
    if row["status"] == "succeeded":
        row["rows_in_table"] = asyncio.run(count_rows(url, table))
        if row["rows_in_table"] != total or row["items"] != total:
            row["problems"].append(
                f"{label}: {row['items']} items read, {row['rows_in_table']} rows in {table}, "
                f"expected {total}"
            )
        rate = f"{row['items'] / row['seconds']:,.0f} items/s, " if row["seconds"] else ""
        print(
            f"  {label}: {row['seconds']:.2f} s, {rate}cpu {row['cpu_s']:.1f} s, "
            f"pg cpu {row['postgres_cpu_s']:.1f} s, peak {row['peak_mib']:.0f} MiB",
            flush=True,
        )
    else:
        row["problems"].append(f"{label}: {row['status']}")
    for problem in row["problems"]:
        print(f"  PROBLEM: {problem}", file=sys.stderr)
    return row


def bench_dlt(
    feed: Path, changed: Path, url: str, folder: Path, total: int, args, run: int
) -> list[dict]:
    """dlt's first load of the feed into the empty database `url`, the same feed again, then
    the feed with a tenth of its items changed."""
    python = dlt_python()
    pipelines = folder / f"dlt-{run}"
    env = processes.clean_env(
        RUNTIME__DLTHUB_TELEMETRY="false",  # dlt would report each run to its makers otherwise
        RUNTIME__LOG_LEVEL="WARNING",
        DLT_DATA_DIR=str(pipelines / "home"),
        DLT_PROJECT_DIR=str(pipelines),
    )
    pipelines.mkdir()
    rows = []
    cases = (
        ("first load", "first", feed),
        ("same feed again", "again", feed),
        ("10% changed", "changed", changed),
    )
    for case, role, loaded in cases:
        print(f"  dlt: {case} ...", flush=True)
        command = [str(python), str(HERE / "dlt_child.py"), str(loaded), dlt_url(url)]
        row = run_load(
            command + [str(pipelines)],
            env=env,
            folder=folder,
            name=f"dlt-{run}-{role}",
            timeout=args.timeout,
        )
        row |= {"loader": "dlt", "database": "postgresql", "case": case, "role": role, "run": run}
        rows.append(finish(row, url, "feed.items", total, f"dlt, {case}"))
        if row["status"] != "succeeded":
            break
    return rows


def bench_copy(feed: Path, url: str, folder: Path, total: int, args, run: int) -> list[dict]:
    """One COPY of the parsed items into a plain table of the empty database `url`."""
    print("  copy: COPY of the parsed items ...", flush=True)
    row = run_load(
        [sys.executable, str(HERE / "copy_child.py"), str(feed), plain_url(url)],
        env=processes.clean_env(),
        folder=folder,
        name=f"copy-{run}",
        timeout=args.timeout,
    )
    row |= {"loader": "copy", "database": "postgresql", "case": "COPY", "role": "first", "run": run}
    return [finish(row, url, "item", total, "copy")]
