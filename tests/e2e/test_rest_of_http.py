"""The rest of HTTP on a running hub: health, readiness, metrics, GraphiQL, request logs."""

import json
import re
import uuid
from html.parser import HTMLParser

import httpx

from server.web import graphiql_assets
from store import migrate

from .server_process import clean_env

METRICS_PROBE = "query E2eMetricsProbe { members(first: 3) { nodes { slug name } } }"
REQUESTS_OK = 'alliance_graphql_requests_total{operation="E2eMetricsProbe",outcome="ok"}'
SQL_STATEMENTS = "alliance_sql_statements_total"
LOGGED_QUERY = "query E2eLogged { __typename }"


# --- health and readiness -----------------------------------------------------------------------


def test_healthz_says_the_process_is_alive(http):
    response = http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_migration_the_database_is_at(http):
    response = http.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "migration": migrate.head()}


# --- metrics ------------------------------------------------------------------------------------


def sample(text: str, name: str) -> float:
    """The value of one sample in the Prometheus text format; 0 when it is not there yet."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_graphql_requests_and_sql_statements(http):
    # given
    before = http.get("/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    assert "# TYPE alliance_graphql_requests_total counter" in before.text
    assert "# TYPE alliance_sql_statements_total counter" in before.text

    # when
    answered = http.post(
        "/graphql", json={"query": METRICS_PROBE, "operationName": "E2eMetricsProbe"}
    )
    assert answered.status_code == 200 and "errors" not in answered.json(), answered.text
    after = http.get("/metrics").text

    # then
    assert sample(after, REQUESTS_OK) == sample(before.text, REQUESTS_OK) + 1
    assert sample(after, SQL_STATEMENTS) > sample(before.text, SQL_STATEMENTS)
    assert re.search(
        r'^alliance_graphql_request_seconds_count\{operation="E2eMetricsProbe"\} [1-9]',
        after,
        re.MULTILINE,
    ), "latency is recorded by operation"


# --- GraphiQL -----------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_script = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attrs.get("src"):
                self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_script += data.strip()


def directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name.lower()] = values
    return found


def test_root_serves_graphiql_from_the_hub_itself_under_a_strict_csp(http):
    # when
    response = http.get("/")

    # then: the page, or the 503 that explains how to install GraphiQL's files
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert response.headers["content-type"].startswith("text/html")
    if not graphiql_assets.assets_ready():
        assert response.status_code == 503
        assert "not installed" in response.text
        assert "graphiql_assets fetch" in response.text
        assert http.post("/graphql", json={"query": "{ __typename }"}).status_code == 200
        return
    assert response.status_code == 200, response.text
    tags = _Tags()
    tags.feed(response.text)
    assert tags.inline_script == "", "the CSP forbids inline scripts"
    assert len(tags.urls) >= 5, tags.urls  # React, ReactDOM, GraphiQL's JS and CSS, start.js
    for url in tags.urls:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not served by the hub"
        asset = http.get(url)
        assert asset.status_code == 200, f"{url}: {asset.status_code}"
        assert asset.content, url
        kind = "text/css" if url.endswith(".css") else "javascript"
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])


async def test_root_explains_with_a_503_when_graphiql_is_not_installed(tmp_path, start_hub):
    # given: a hub whose GraphiQL directory is empty (a fresh clone that could not fetch them)
    empty = tmp_path / "no-graphiql"
    empty.mkdir()
    env = clean_env(ALLIANCE_GRAPHIQL_DIR=str(empty), ALLIANCE_LOG_FORMAT="json")
    hub = await start_hub(["--demo"], env, tmp_path)

    # when
    async with httpx.AsyncClient(base_url=hub.base_url) as http:
        page = await http.get("/")
        asset = await http.get(f"/graphiql/{graphiql_assets.file_names()[0]}")
        api = await http.post("/graphql", json={"query": "{ __typename }"})

    # then
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert directives(page.headers["content-security-policy"])["default-src"] == ["'self'"]
    assert "not installed" in page.text and "graphiql_assets fetch" in page.text
    assert asset.status_code == 404
    assert api.json() == {"data": {"__typename": "Query"}}, "the API works without GraphiQL"


def test_graphiql_asset_that_does_not_exist_is_404_not_500(http):
    assert http.get("/graphiql/no-such-file.js").status_code == 404


# --- logs ---------------------------------------------------------------------------------------


def test_each_request_is_one_json_log_line_with_its_request_id(hub, http):
    # given
    request_id = f"e2e-{uuid.uuid4().hex}"

    # when
    http.post(
        "/graphql",
        json={"query": LOGGED_QUERY, "operationName": "E2eLogged"},
        headers={"x-request-id": request_id},
    )

    # then
    lines = [json.loads(line) for line in hub.log().splitlines() if request_id in line]
    assert len(lines) == 1, hub.log()[-2000:]
    [entry] = lines
    assert entry["request_id"] == request_id
    assert entry["logger"] == "alliance.http"
    assert entry["status"] == 200
    assert "E2eLogged" in entry["msg"]
    assert isinstance(entry["ms"], int | float)
