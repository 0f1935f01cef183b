"""Rate limits per key and per anonymous address (server/web/rates.py): a caller over its rate
is refused with 429 RATE_LIMITED and Retry-After, others are not; with Redis every API process
counts the same window."""

import socket
import uuid

import httpx
import pytest

from .server_process import clean_env, make_key, run_cli

PEPPER = "the rate tests' pepper, 32 chars"
QUERY = {"query": "{ __typename }"}


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def ask(hub, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{hub.base_url}/graphql", json=QUERY, headers=headers)


@pytest.fixture
async def keyed(databases, tmp_path):
    database = await databases.create()
    await database.engine.dispose()
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_KEY_PEPPER=PEPPER)
    tokens = []
    for _ in range(2):
        name = f"k-{uuid.uuid4().hex[:8]}"  # fresh windows, also in a Redis other runs used
        tokens.append(make_key(name, "partner", env=env, cwd=tmp_path))
    return env, tokens


async def test_a_key_over_its_rate_is_refused_and_others_are_not(keyed, tmp_path, start_hub):
    env, (first, second) = keyed
    limited = {
        **env,
        "ALLIANCE_RATE_LIMIT": "3/minute",
        "ALLIANCE_ANONYMOUS_RATE_LIMIT": "2/minute",
    }
    hub = await start_hub(["--no-scheduler"], limited, tmp_path)

    assert [ask(hub, first).status_code for _ in range(3)] == [200, 200, 200]
    refused = ask(hub, first)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert ask(hub, second).status_code == 200  # another key has its own window
    assert [ask(hub).status_code for _ in range(3)] == [200, 200, 429]  # anonymous, by address


@pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379")
async def test_with_redis_every_api_process_counts_one_window(keyed, tmp_path, start_hub):
    env, (token, _) = keyed
    shared = {
        **env,
        "ALLIANCE_RATE_LIMIT": "4/minute",
        "ALLIANCE_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/15",
    }
    one = await start_hub(["--no-scheduler"], shared, tmp_path)
    two = await start_hub(["--no-scheduler"], shared, tmp_path)

    codes = [ask(hub, token).status_code for hub in (one, two, one, two, one, two)]
    assert codes == [200, 200, 200, 200, 429, 429]


def test_a_rate_that_does_not_parse_stops_serve_naming_the_setting(tmp_path):
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", ALLIANCE_RATE_LIMIT="lots")
    result = run_cli("serve", env=env, cwd=tmp_path)
    said = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2 and "ALLIANCE_RATE_LIMIT" in said, said
    assert "Traceback" not in said, said
