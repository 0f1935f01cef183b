"""`alliance keys`: the API keys partners and operators call with (docs/operations.md, "API
keys"); what each role may do is in docs/api.md."""

from typing import Annotated

import typer

from store import keys
from store.enums import Role
from store.errors import KeyRefused

from ._shared import fail, load_settings, out, run_existing, run_migrated

app = typer.Typer(help="API keys: create, list, revoke.")


@app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who holds it: lowercase, digits, '.', '_', '-'.")],
    role: Annotated[Role, typer.Option(help="What it may do.")] = Role.READER,
) -> None:
    """Create a key and print its token, once: the hub keeps only a hash of it."""
    settings = load_settings()
    if settings.key_pepper is None:
        fail("set ALLIANCE_KEY_PEPPER (16 characters or more) first: keys are hashed with it")
    pepper = settings.key_pepper.get_secret_value()

    async def work(engine) -> str:
        async with engine.begin() as connection:
            return await keys.create(connection, name, role, pepper)

    try:
        token = run_migrated(settings, work)
    except KeyRefused as exc:
        fail(exc)
    out.print(f"key {name} ({role.value}) created; its token, shown only now:")
    print(token)  # alone on its line, uncoloured, for a script to take


@app.command("list")
def keys_list() -> None:
    """Every key, the revoked ones too; never a token."""
    from rich.table import Table

    async def work(engine) -> list[keys.ApiKey]:
        async with engine.connect() as connection:
            return await keys.listed(connection)

    found = run_existing(load_settings(), work)
    table = Table("name", "role", "prefix", "created", "revoked")
    for key in found:
        revoked = key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "-"
        table.add_row(
            key.name, key.role, key.prefix, key.created_at.strftime("%Y-%m-%d %H:%M"), revoked
        )
    out.print(table if found else "no keys yet: alliance keys create NAME --role ROLE")


@app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: every API process refuses it from its next request on."""

    async def work(engine) -> None:
        async with engine.begin() as connection:
            await keys.revoke(connection, name)

    try:
        run_existing(load_settings(), work)
    except KeyRefused as exc:
        fail(exc)
    out.print(f"key {name} revoked")
