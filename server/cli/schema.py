"""`alliance schema`: the SDL that `schema.graphql` is checked in as (docs/api.md)."""

from pathlib import Path
from typing import Annotated

import typer

from ._shared import load_settings


def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Print the GraphQL schema (SDL); `schema.graphql` is this output."""
    from server.graph.schema import build_schema

    sdl = build_schema(load_settings()).as_str() + "\n"
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")
