"""Prometheus metrics of the API process, served at `/metrics`."""

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter(
    "alliance_graphql_requests_total",
    "GraphQL requests by operation and outcome.",
    ["operation", "outcome"],
)
LATENCY = Histogram(
    "alliance_graphql_request_seconds",
    "Time to answer a GraphQL request.",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
READ_PATH = Counter(
    "alliance_graphql_read_path_total",
    "GraphQL requests by what answered: `compiled` (one statement), `resolvers`, `cache`, `none`.",
    ["path"],
)
ANSWERS = Counter(
    "alliance_answer_cache_total",
    "GraphQL requests by how the answer cache served them: `hit` (a kept answer), `not_modified`"
    " (304), `miss` (executed, kept when it had no errors), `bypass` (not a query, or the data"
    " version unknown).",
    ["result"],
)
DATA_VERSION = Gauge(
    "alliance_data_version",
    "The data version this process last knew of; -1 while it cannot know (PostgreSQL listener"
    " down).",
)
DATA_VERSION.set(-1)
CONNECTIONS = Gauge("alliance_socket_connections", "WebSocket connections open on /graphql.")
OPERATIONS = Gauge(
    "alliance_socket_operations", "Operations running over WebSocket: mostly subscriptions."
)
SQL_STATEMENTS = Counter("alliance_sql_statements_total", "SQL statements sent to the database.")

# Clients name their operations; past this many names, new ones share one label, so a client
# cannot grow the metrics without bound.
MAX_OPERATION_LABELS = 200
_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "-"
    name = name[:64]
    if name not in _operations and len(_operations) >= MAX_OPERATION_LABELS:
        return "other"
    _operations.add(name)
    return name


async def endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
