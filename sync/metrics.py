"""Prometheus metrics of the runs this process made; `/metrics` serves them with the API's."""

from prometheus_client import Counter, Gauge

RUNS = Counter(
    "alliance_sync_runs_total", "Sync runs by feed and how they ended.", ["feed", "status"]
)
ITEMS = Counter(
    "alliance_sync_items_total", "Feed items by feed and what became of them.", ["feed", "outcome"]
)
LAST_SUCCESS = Gauge(
    "alliance_sync_last_success_timestamp_seconds",
    "When a run of the feed last succeeded (or found it not modified).",
    ["feed"],
)


def record(feed: str, status: str, counts, finished_at) -> None:
    RUNS.labels(feed, status).inc()
    for outcome in ("created", "updated", "unchanged", "deleted", "quarantined"):
        ITEMS.labels(feed, outcome).inc(getattr(counts, outcome))
    if status in ("succeeded", "partial", "not_modified"):
        LAST_SUCCESS.labels(feed).set(finished_at.timestamp())
