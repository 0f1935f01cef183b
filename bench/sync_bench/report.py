"""What the bench prints: the hub's table (every case of every run), where a first sync's time
went by kind of statement, and the comparison of the loaders, the median of their runs."""

import statistics

LOADERS = {
    "hub": "hub, first sync",
    "dlt": "dlt merge on (type, id)",
    "copy": "asyncpg COPY, plain table",
}


def print_columns(titles: list[str], lines: list[list[str]], left: int) -> None:
    """A table: the first `left` columns aligned left, the rest right."""
    lines = [titles] + lines
    widths = [max(len(line[i]) for line in lines) for i in range(len(titles))]
    for n, line in enumerate(lines):
        print(
            "  ".join(
                c.ljust(w) if i < left else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def cells_of(row: dict) -> list[str]:
    counts = row.get("counts") or {}
    seen = counts.get("seen", 0)
    seconds = row["seconds"]
    rate = f"{seen / seconds:,.0f}" if seen and seconds else "-"
    statements = row.get("statements")
    cpu = row.get("cpu_s")
    return [
        row["database"],
        str(row["run"]),
        row["case"] + (" *" if row.get("profiled") else ""),
        row["status"],
        f"{seconds:.2f}",
        rate,
        f"{row['peak_mib']:.0f}",
        "-" if cpu is None else f"{cpu:.1f}",
        "-" if row.get("postgres_cpu_s") is None else f"{row['postgres_cpu_s']:.1f}",
        "-" if statements is None else f"{statements:,}",
        "-" if not seen or statements is None else f"{statements / seen:.1f}",
        f"{counts.get('created', 0)}/{counts.get('updated', 0)}/{counts.get('unchanged', 0)}",
        str(counts.get("quarantined", 0)),
    ]


def print_table(rows: list[dict]) -> None:
    """The hub's runs, one line per case."""
    titles = "database run case status seconds items/s".split() + [
        "peak MiB",
        "cpu s",
        "pg cpu s",
        "statements",
        "stmts/item",
        "created/updated/unchanged",
        "quar.",
    ]
    print_columns(titles, [cells_of(row) for row in rows], left=4)


def print_sql(row: dict, top: int = 8) -> None:
    """Where the run's time went, by statement: time in the driver and the database (one round
    trip each), and what is left for Python between them."""
    if not row.get("sql"):
        return
    window, spent = row["sql_window_s"], row["sql_waiting_s"]
    print(
        f"    {window:.0f} s: {spent:.0f} s ({100 * spent / window:.0f}%) with a statement in "
        f"flight, {window - spent:.0f} s in Python between them; time by kind of statement:"
    )
    ranked = sorted(row["sql"].items(), key=lambda kind: -kind[1][1])
    for kind, (count, seconds) in ranked[:top]:
        print(
            f"    {100 * seconds / window:5.1f}%  {seconds:7.1f} s  {count:>8,} x "
            f"{1000 * seconds / count:7.3f} ms  {kind}"
        )


def items_of(row: dict) -> int:
    return (row.get("counts") or {}).get("seen", 0) if row["loader"] == "hub" else row["items"]


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summary(rows: list[dict]) -> list[dict]:
    """Per loader and database, the medians over its runs that succeeded: items/s, CPU, peak
    memory and statements per item of the first load; the same feed again and the feed with a
    tenth changed, in seconds and items/s."""
    found = []
    keys = dict.fromkeys((row["loader"], row["database"]) for row in rows)
    for loader, database in keys:
        mine = [r for r in rows if (r["loader"], r["database"]) == (loader, database)]
        first = [r for r in mine if r["role"] == "first" and r["status"] == "succeeded"]
        again = [r for r in mine if r["role"] == "again" and r["status"] == "succeeded"]
        changed = [r for r in mine if r["role"] == "changed" and r["status"] == "succeeded"]
        found.append(
            {
                "loader": loader,
                "database": database,
                "runs": len(first),
                "items_per_s": _median([items_of(r) / r["seconds"] for r in first]),
                "seconds": _median([r["seconds"] for r in first]),
                "loader_cpu_s": _median([r.get("cpu_s") for r in first]),
                "postgres_cpu_s": _median([r.get("postgres_cpu_s") for r in first]),
                "peak_mib": _median([r["peak_mib"] for r in first]),
                "statements_per_item": _median(
                    [r["statements"] / items_of(r) for r in first if r.get("statements")]
                ),
                "again_s": _median([r["seconds"] for r in again]),
                "again_per_s": _median([items_of(r) / r["seconds"] for r in again]),
                "changed_per_s": _median([items_of(r) / r["seconds"] for r in changed]),
            }
        )
    return found


def _cell(value: float | None, form: str) -> str:
    return "-" if value is None else format(value, form)


def print_comparison(found: list[dict]) -> None:
    titles = "loader database runs items/s seconds".split() + [
        "loader cpu s",
        "pg cpu s",
        "peak MiB",
        "stmts/item",
        "same feed again s",
        "again items/s",
        "10% changed items/s",
    ]
    lines = [
        [
            LOADERS[s["loader"]],
            s["database"],
            str(s["runs"]),
            _cell(s["items_per_s"], ",.0f"),
            _cell(s["seconds"], ".2f"),
            _cell(s["loader_cpu_s"], ".1f"),
            _cell(s["postgres_cpu_s"], ".1f"),
            _cell(s["peak_mib"], ".0f"),
            _cell(s["statements_per_item"], ".2g"),
            _cell(s["again_s"], ".2f"),
            _cell(s["again_per_s"], ",.0f"),
            _cell(s["changed_per_s"], ",.0f"),
        ]
        for s in found
    ]
    print_columns(titles, lines, left=2)
