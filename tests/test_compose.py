"""compose.yaml and the Dockerfile: the production layout the README promises."""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def _words(command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def _dockerfile_instructions(name: str) -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        line.split(None, 1)[1] for line in text.splitlines() if line.upper().startswith(name + " ")
    ]


def test_services_are_db_migrate_api_and_worker(services):
    assert {"db", "migrate", "api", "worker"} <= set(services)
    assert services["db"]["image"].startswith("postgres:16")
    assert services["db"]["volumes"], "the database must survive a restart"


def test_db_reports_health_with_pg_isready(services):
    assert "pg_isready" in " ".join(_words(services["db"]["healthcheck"]["test"]))


def test_migrate_upgrades_once_the_db_is_healthy(services):
    migrate = services["migrate"]
    assert _words(migrate["command"]) == ["alliance", "db", "upgrade"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert "build" in migrate


def test_api_serves_on_8000_after_migrations(services):
    api = services["api"]
    assert _words(api["command"]) == [
        "alliance",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
        "--no-scheduler",
    ]
    assert api["environment"]["DATABASE_URL"] == "postgresql://alliance:alliance@db:5432/alliance"
    assert api["deploy"]["replicas"] == 2
    published = [str(p).rsplit(":", 1) for p in api["ports"]]
    assert any(
        container == "8000" and host.split("-")[0] == "8000" for host, container in published
    )
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_worker_runs_the_scheduler_after_migrations(services):
    worker = services["worker"]
    assert _words(worker["command"]) == ["alliance", "worker"]
    assert worker["environment"]["DATABASE_URL"] == services["api"]["environment"]["DATABASE_URL"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_api_health_check_hits_healthz_without_curl(services):
    check = " ".join(_words(services["api"]["healthcheck"]["test"]))
    assert "/healthz" in check and ":8000" in check
    assert "python" in check and "urllib" in check
    assert "curl" not in check


def test_dockerfile_runs_the_alliance_console_script():
    assert _dockerfile_instructions("FROM") == ["python:3.11-slim"]
    (cmd,) = _dockerfile_instructions("CMD")
    assert json.loads(cmd) == ["alliance", "serve", "--host", "0.0.0.0", "--port", "8000"]


def test_dockerfile_installs_the_project_and_graphiql_and_drops_root():
    runs = " ".join(_dockerfile_instructions("RUN"))
    assert re.search(r"pip install (\.|/src)\b", runs)
    assert "python -m server.web.graphiql_assets fetch" in runs
    (user,) = _dockerfile_instructions("USER")
    assert user.strip() not in {"root", "0"}


def test_every_hub_process_takes_secrets_from_an_env_file_and_outlives_a_runs_grace(services):
    for name in ("migrate", "api", "worker"):
        service = services[name]
        assert service["env_file"] == [{"path": ".env", "required": False}], name
        assert service["stop_grace_period"] == "45s", name  # the scheduler's grace is 30 s
    assert "PEPPER" not in " ".join(map(str, services["api"]["environment"]))


def test_the_worker_is_probed_on_its_own_port(services):
    worker = services["worker"]
    check = " ".join(_words(worker["healthcheck"]["test"]))
    assert "/healthz" in check and ":8001" in check and "urllib" in check
    assert worker["environment"]["ALLIANCE_WORKER_PORT"] == "8001"
    assert worker["environment"]["ALLIANCE_HOST"] == "0.0.0.0"
