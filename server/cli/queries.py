"""`alliance queries`: the operations a hub in allowlist mode runs (`ALLIANCE_PERSISTED_QUERIES=
allowlist`, docs/api.md "Persisted queries"). A `.graphql` file is registered as its exact text,
the text its clients send; an Apollo persisted query manifest (`.json`) registers each of its
operations' bodies."""

import json
from pathlib import Path
from typing import Annotated

import typer

from store import persisted

from ._shared import fail, load_settings, out, run_existing, run_migrated

app = typer.Typer(help="Registered operations, for a hub that runs only those.")


def _documents(path: Path) -> list[tuple[str, str]]:
    """(name, text) of each operation the file holds."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    if path.suffix != ".json":
        return [(path.name, text)]
    try:
        manifest = json.loads(text)
        return [(op.get("name") or path.name, op["body"]) for op in manifest["operations"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        fail(f"{path} is not an Apollo persisted query manifest ({{operations: [{{body}}]}})")


@app.command("add")
def queries_add(
    files: Annotated[list[Path], typer.Argument(help=".graphql files, or manifests (.json).")],
) -> None:
    """Register the operations of the files; one registered already stays as it is."""
    from graphql import GraphQLError, parse

    documents = [found for path in files for found in _documents(path)]
    for name, text in documents:
        try:
            parse(text)
        except GraphQLError as exc:
            fail(f"{name} does not parse: {exc.message}")

    async def work(engine) -> list[tuple[str, str, bool]]:
        async with engine.begin() as connection:
            return [
                (name, *await persisted.register(connection, text, name))
                for name, text in documents
            ]

    for name, sha, new in run_migrated(load_settings(), work):
        out.print(f"{sha}  {name}{'' if new else ' (registered already)'}")


@app.command("list")
def queries_list() -> None:
    """The registered operations: hash, name, when."""

    async def work(engine) -> list[persisted.PersistedQuery]:
        async with engine.connect() as connection:
            return await persisted.listed(connection)

    found = run_existing(load_settings(), work)
    for query in found:
        out.print(f"{query.sha256}  {query.name or '-'}  {query.created_at:%Y-%m-%d %H:%M}")
    if not found:
        out.print("no registered operations: alliance queries add FILE.graphql")


@app.command("remove")
def queries_remove(sha256: Annotated[str, typer.Argument(help="The operation's hash.")]) -> None:
    """Stop running an operation; every API process refuses it from its next request on."""

    async def work(engine) -> bool:
        async with engine.begin() as connection:
            return await persisted.remove(connection, sha256)

    if not run_existing(load_settings(), work):
        fail(f"no operation registered with the hash {sha256}")
    out.print(f"{sha256} removed")
