"""Small documents whose work grows faster than their size, against a real `alliance serve`.

A fragment that spreads the next one twice, thirty times over, is 2**30 spreads in 1.4 KB. The
hub must refuse it by its cost limit at once, with a code, and go on answering everyone else.
Each test starts a server of its own: a server that failed here would be frozen for hours, and
the last test stops its server with SIGTERM.
"""

import signal
import threading
import time

import httpx
import pytest

from tests.bombs import fragment_bomb

from .server_process import HubProcess, clean_env

NEW_CLIENT = {"accept": "application/graphql-response+json"}
BOUND = 10.0  # seconds: generous, so that only a server that hangs fails


@pytest.fixture
async def lone_hub(databases, start_hub, tmp_path) -> HubProcess:
    """`alliance serve` over an empty migrated database, for one test alone."""
    database = await databases.create()
    await database.engine.dispose()
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_LOG_FORMAT="json")
    return await start_hub(["--no-scheduler"], env, tmp_path)


@pytest.mark.parametrize("levels", [30, 60])
async def test_a_fragment_bomb_is_refused_by_the_cost_limit(lone_hub, levels):
    # given
    bomb = fragment_bomb(levels)
    assert len(bomb.encode()) < 3_000

    # when
    async with httpx.AsyncClient(base_url=lone_hub.base_url, timeout=BOUND) as http:
        response = await http.post("/graphql", json={"query": bomb}, headers=NEW_CLIENT)
        health = await http.get("/healthz")

    # then
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
    assert "'Bomb'" in error["message"] and "cost" in error["message"], error
    assert health.status_code == 200


def bombard(base_url: str, started: threading.Event, stop: threading.Event, answers: list):
    """Send the 30-level bomb again and again until `stop`, keeping each answer's status."""
    with httpx.Client(base_url=base_url, timeout=BOUND) as http:
        started.set()
        while not stop.is_set():
            try:
                answers.append(
                    http.post(
                        "/graphql", json={"query": fragment_bomb(30)}, headers=NEW_CLIENT
                    ).status_code
                )
            except httpx.TransportError as exc:  # the server went away: the test says so below
                answers.append(type(exc).__name__)
                return


async def test_the_server_answers_others_while_bombs_keep_coming_and_stops_on_sigterm(lone_hub):
    # given: another thread sends bombs without pause
    started, stop, answers = threading.Event(), threading.Event(), []
    bomber = threading.Thread(
        target=bombard, args=(lone_hub.base_url, started, stop, answers), daemon=True
    )
    bomber.start()
    assert started.wait(BOUND)
    time.sleep(0.2)  # the first bomb is on its way

    try:
        # when: someone else asks for /healthz and a small query, twenty times
        with httpx.Client(base_url=lone_hub.base_url, timeout=BOUND) as http:
            for _ in range(20):
                health = http.get("/healthz")
                query = http.post("/graphql", json={"query": "{ __typename }"})

                # then
                assert health.status_code == 200
                assert query.json() == {"data": {"__typename": "Query"}}
                time.sleep(0.05)

        # and: the bombs were answered (refused), not left hanging
        assert len(answers) >= 10, answers
        assert set(answers) == {400}, set(answers)

        # when: SIGTERM while the bombs still come
        lone_hub.process.send_signal(signal.SIGTERM)

        # then: it stops promptly (uvicorn raises the signal again once it has shut down)
        assert lone_hub.process.wait(timeout=BOUND) in (0, -signal.SIGTERM)
        assert "Traceback" not in lone_hub.log(), lone_hub.log()[-2000:]
    finally:
        stop.set()
        bomber.join(BOUND)
