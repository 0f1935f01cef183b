"""API keys over HTTP, as partners and operators use them: keys made with `alliance keys`, a
server process that checks them, and a revocation that every API process honours at once."""

import httpx
import pytest
from sqlalchemy import update

from store import seed
from store.registry import PERSON

from .server_process import clean_env, make_key, run_cli

PEPPER = "the e2e tests' pepper, long enough"
PUBLIC = '{ person(slug: "stefan-weiler") { slug } }'
CONTACTS = '{ person(slug: "stefan-weiler") { contactDetails { type value } } }'
GRAPHQL_RESPONSE = "application/graphql-response+json"


def graphql(hub, query: str, token: str | None = None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    headers.setdefault("accept", GRAPHQL_RESPONSE)
    return httpx.post(f"{hub.base_url}/graphql", json={"query": query}, headers=headers)


def code(response: httpx.Response) -> str | None:
    errors = response.json().get("errors")
    return errors[0]["extensions"]["code"] if errors else None


@pytest.fixture(scope="module")
async def keyed(databases, tmp_path_factory):
    """A seeded database with one person's contact details, and a key of each role."""
    database = await databases.create()
    await seed.seed(database.engine)
    async with database.engine.begin() as connection:
        await connection.execute(
            update(PERSON)
            .where(PERSON.c.slug == "stefan-weiler")
            .values(contact_details=[{"type": "email", "value": "s.weiler@example.org"}])
        )
    await database.engine.dispose()
    work = tmp_path_factory.mktemp("keys")
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_KEY_PEPPER=PEPPER)
    tokens = {}
    for role in ("reader", "partner", "operator"):
        tokens[role] = make_key(f"{role}-key", role, env=env, cwd=work)
    return env, work, tokens


async def test_each_role_reads_what_it_may_and_is_refused_the_rest(keyed, start_hub):
    env, work, tokens = keyed
    hub = await start_hub(["--no-scheduler"], env, work)
    callers = {"anonymous": None, **tokens}

    seen = {}
    for who, token in callers.items():
        public, contacts = graphql(hub, PUBLIC, token), graphql(hub, CONTACTS, token)
        seen[who] = (public.status_code, contacts.status_code, code(contacts))

    assert seen == {
        "anonymous": (200, 403, "FORBIDDEN"),
        "reader": (200, 403, "FORBIDDEN"),
        "partner": (200, 200, None),
        "operator": (200, 200, None),
    }
    shown = graphql(hub, CONTACTS, tokens["partner"]).json()["data"]
    assert shown == {
        "person": {"contactDetails": [{"type": "email", "value": "s.weiler@example.org"}]}
    }
    # The same query again is answered from the cache, for its role only.
    assert graphql(hub, CONTACTS, tokens["partner"]).status_code == 200
    assert graphql(hub, CONTACTS, tokens["reader"]).status_code == 403
    assert graphql(hub, CONTACTS).status_code == 403


async def test_a_bad_key_is_refused_with_401_and_a_bearer_challenge(keyed, start_hub):
    env, work, tokens = keyed
    hub = await start_hub(["--no-scheduler"], env, work)
    wrong = tokens["reader"][:-4] + ("aaaa" if not tokens["reader"].endswith("aaaa") else "bbbb")

    for header in (f"Bearer {wrong}", "Bearer ahk_nonsense", "Basic dXNlcjpwYXNz", "Bearer"):
        response = graphql(hub, PUBLIC, authorization=header)
        assert response.status_code == 401, header
        assert code(response) == "UNAUTHENTICATED", header
        assert response.headers["www-authenticate"].startswith('Bearer realm="alliance-hub"')
    for media_type in ("application/json", GRAPHQL_RESPONSE):  # whichever the client accepts
        assert graphql(hub, PUBLIC, wrong, accept=media_type).status_code == 401


async def test_without_anonymous_reads_a_request_needs_a_key(keyed, start_hub):
    env, work, tokens = keyed
    hub = await start_hub(["--no-scheduler"], {**env, "ALLIANCE_ANONYMOUS_READS": "false"}, work)

    refused = graphql(hub, PUBLIC)
    assert (refused.status_code, code(refused)) == (401, "UNAUTHENTICATED")
    assert refused.headers["www-authenticate"] == 'Bearer realm="alliance-hub"'
    assert graphql(hub, PUBLIC, tokens["reader"]).status_code == 200


async def test_a_hub_without_a_pepper_takes_no_keys_and_says_why(keyed, start_hub):
    env, work, tokens = keyed
    unpeppered = {k: v for k, v in env.items() if k != "ALLIANCE_KEY_PEPPER"}
    hub = await start_hub(["--no-scheduler"], unpeppered, work)

    response = graphql(hub, PUBLIC, tokens["operator"])
    assert response.status_code == 401
    assert "ALLIANCE_KEY_PEPPER" in response.json()["errors"][0]["message"]


async def test_a_revoked_key_is_refused_on_its_next_request_by_every_api_process(keyed, start_hub):
    env, work, _ = keyed
    made = run_cli("keys", "create", "short-lived", "--role", "partner", env=env, cwd=work)
    token = made.stdout.strip().splitlines()[-1]
    first = await start_hub(["--no-scheduler"], env, work)
    second = await start_hub(["--no-scheduler"], env, work)
    assert [graphql(h, CONTACTS, token).status_code for h in (first, second)] == [200, 200]

    revoked = run_cli("keys", "revoke", "short-lived", env=env, cwd=work)
    assert revoked.returncode == 0, revoked.stderr

    after = [graphql(h, CONTACTS, token) for h in (first, second)]
    assert [(r.status_code, code(r)) for r in after] == [(401, "UNAUTHENTICATED")] * 2
    listed = run_cli("keys", "list", env=env, cwd=work)
    assert "short-lived" in listed.stdout and token not in listed.stdout
