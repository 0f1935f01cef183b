"""Prometheus metrics of the API process, served at `/metrics`."""

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
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
SQL_STATEMENTS = Counter("alliance_sql_statements_total", "SQL statements sent to the database.")


async def endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
