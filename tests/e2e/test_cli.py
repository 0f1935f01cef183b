"""The `alliance` command as a newcomer runs it: wrong settings, the schema, `serve --demo`."""

import re

import httpx

from store import migrate
from store.config import StoreSettings
from store.db import create_engine
from tests.readme import assert_kaiserslautern, readme_query

from .server_process import REPO, clean_env, free_port, run_cli


def one_line(text: str) -> str:
    """Rich wraps messages at the terminal width; join them again."""
    return " ".join(text.split())


def test_serve_with_an_unsupported_database_url_exits_naming_database_url(tmp_path):
    # when
    result = run_cli(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        env=clean_env(DATABASE_URL="mysql://x"),
        cwd=tmp_path,
    )

    # then
    message = one_line(result.stdout + result.stderr)
    assert result.returncode != 0, message
    assert "DATABASE_URL" in message, message
    assert "mysql" in message, message
    assert "Traceback" not in message, message


def test_serve_with_a_port_that_is_not_a_number_exits_naming_alliance_port(tmp_path):
    # when
    result = run_cli(
        "serve",
        env=clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", ALLIANCE_PORT="abc"),
        cwd=tmp_path,
    )

    # then
    message = one_line(result.stdout + result.stderr)
    assert result.returncode != 0, message
    assert "ALLIANCE_PORT" in message, message
    assert "abc" in message, message
    assert "Traceback" not in message, message


def test_schema_prints_exactly_the_checked_in_schema_graphql(tmp_path):
    # when
    result = run_cli("schema", env=clean_env(), cwd=tmp_path)

    # then
    assert result.returncode == 0, result.stderr
    checked_in = (REPO / "schema.graphql").read_text(encoding="utf-8")
    assert result.stdout == checked_in, (
        "schema.graphql is out of date with the code: run `make schema` and commit the result"
    )


def test_help_lists_the_commands(tmp_path):
    # when
    result = run_cli("--help", env=clean_env(), cwd=tmp_path)

    # then
    assert result.returncode == 0, result.stderr
    for command in ("serve", "db", "schema"):
        assert re.search(rf"^\W*{command}\s+\S", result.stdout, re.MULTILINE), (
            f"`alliance --help` does not list `{command}`:\n{result.stdout}"
        )


async def test_serve_demo_in_an_empty_directory_migrates_seeds_and_serves(tmp_path, start_hub):
    # given: a fresh directory and no database setting at all
    env = clean_env(ALLIANCE_LOG_FORMAT="json")
    assert "DATABASE_URL" not in env

    # when
    demo = await start_hub(["--demo"], env, tmp_path)

    # then: a SQLite file in the working directory, at the newest migration
    assert (tmp_path / "alliance.db").is_file()
    async with httpx.AsyncClient(base_url=demo.base_url, timeout=10.0) as http:
        ready = await http.get("/readyz")
        answer = await http.post("/graphql", json={"query": readme_query()})
    assert ready.json() == {"status": "ok", "migration": migrate.head()}
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    assert_kaiserslautern(body["data"])

    # and it stops on SIGTERM
    demo.stop()
    assert demo.process.returncode is not None


def test_commands_that_only_read_never_create_or_migrate_a_database(tmp_path):
    readers = (("runs",), ("feeds", "list"), ("keys", "list"), ("keys", "revoke", "x"))
    for command in readers:
        # when: no database where DATABASE_URL points
        result = run_cli(*command, env=clean_env(), cwd=tmp_path)

        # then
        message = one_line(result.stderr)
        assert result.returncode == 2, (command, message)
        assert "no database at ./alliance.db" in message, (command, message)
    assert list(tmp_path.iterdir()) == []


async def test_commands_that_only_read_name_the_upgrade_a_database_behind_the_code_needs(
    tmp_path,
):
    # given: a database at the migration before the newest
    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(StoreSettings(database_url=url))
    await migrate.upgrade(engine, "0008")
    await engine.dispose()

    # when
    result = run_cli("runs", env=clean_env(DATABASE_URL=url), cwd=tmp_path)

    # then
    message = one_line(result.stderr)
    assert result.returncode == 2, message
    assert "at migration 0008" in message and "alliance db upgrade" in message, message
