"""The parts of `bench/sync_large.py`, the large-feed sync benchmark, one job each:

- `words`, `feed`: the generated `alliance-feed/1` feed, written to a file and checked;
- `feed_server`: the loopback HTTP server that serves it, with an ETag;
- `watch`: the processes the bench starts, stopped by pid, and what is measured of them from
  outside (peak memory, PostgreSQL's CPU);
- `hub`, `hub_child`, `hub_db`: the hub's sync runs, each in a child process;
- `peers`, `dlt_child`, `copy_child`: dlt (in a venv of its own) and the COPY floor;
- `report`, `spy`: the tables, medians and JSON, and `--profile`'s py-spy summary.
"""

from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
