"""API keys (store/keys.py): a token finds its key until it is revoked, and nothing else does."""

import pytest
from sqlalchemy import select

from store import keys
from store.enums import Role
from store.errors import KeyRefused
from store.keys import KEY, Caller

PEPPER = "a pepper of the tests, 32 chars"


async def made(database, name: str, role: Role) -> str:
    async with database.engine.begin() as connection:
        return await keys.create(connection, name, role, PEPPER)


async def caller(database, token: str, pepper: str = PEPPER) -> Caller | None:
    async with database.engine.connect() as connection:
        return await keys.caller(connection, token, pepper)


async def test_a_token_names_its_key_and_role_and_only_its_hash_is_kept(databases):
    database = await databases.create()
    token = await made(database, "kaiserslautern", Role.PARTNER)

    assert await caller(database, token) == Caller("kaiserslautern", Role.PARTNER)
    async with database.engine.connect() as connection:
        row = (await connection.execute(select(KEY))).one()
    assert token.startswith(f"ahk_{row.prefix}_")
    secret = token.removeprefix(f"ahk_{row.prefix}_")  # base64url: it may hold "_" itself
    assert len(secret) == 43
    assert secret not in row.secret_hash and len(row.secret_hash) == 64


async def test_a_wrong_secret_another_pepper_an_unknown_prefix_or_a_malformed_token_is_no_one(
    databases,
):
    database = await databases.create()
    token = await made(database, "reader-one", Role.READER)
    prefix, secret = token.removeprefix("ahk_").split("_", 1)
    other_secret = ("A" if secret[0] != "A" else "B") + secret[1:]

    assert await caller(database, f"ahk_{prefix}_{other_secret}") is None
    assert await caller(database, token, pepper="another pepper, also 32 chars") is None
    assert await caller(database, f"ahk_{'0' * 12}_{secret}") is None
    for malformed in ("", "ahk_", token + "x", token.upper(), f"{prefix}_{secret}", "Bearer x"):
        assert await caller(database, malformed) is None, malformed


async def test_a_revoked_key_is_refused_and_its_name_may_be_given_again(databases):
    database = await databases.create()
    old = await made(database, "ops", Role.OPERATOR)
    with pytest.raises(KeyRefused, match="exists"):
        await made(database, "ops", Role.READER)

    async with database.engine.begin() as connection:
        await keys.revoke(connection, "ops")
    assert await caller(database, old) is None
    with pytest.raises(KeyRefused, match="no key named 'ops'"):
        async with database.engine.begin() as connection:
            await keys.revoke(connection, "ops")

    new = await made(database, "ops", Role.READER)
    assert await caller(database, new) == Caller("ops", Role.READER)
    async with database.engine.connect() as connection:
        listed = await keys.listed(connection)
    assert [(k.name, k.role, k.revoked_at is None) for k in listed] == [
        ("ops", "operator", False),
        ("ops", "reader", True),
    ]


@pytest.mark.parametrize("name", ["", "Ops", "two words", "-dash-first", "x" * 81, "ops/1"])
async def test_a_name_that_is_not_a_key_name_is_refused(databases, name):
    database = await databases.create()
    with pytest.raises(KeyRefused, match="is not a key name"):
        await made(database, name, Role.READER)


def test_each_role_may_do_what_the_roles_before_it_may():
    assert [r.may(Role.PARTNER) for r in Role] == [False, True, True]
    assert all(r.may(Role.READER) for r in Role)
    assert [r.may(Role.OPERATOR) for r in Role] == [False, False, True]
