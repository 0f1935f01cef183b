"""`alliance serve`: the web process (`server.web`), with the feed scheduler unless told not to."""

import logging
from typing import Annotated

import typer

from sync import config as sync_config
from sync.errors import SyncError

from ._shared import fail, load_settings
from .db import upgrade_and_seed


def serve(
    demo: Annotated[
        bool, typer.Option(help="Migrate and seed a local SQLite demo database first.")
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (ALLIANCE_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (ALLIANCE_PORT).")] = None,
    scheduler: Annotated[
        bool, typer.Option(help="Run the feed scheduler here (off for API replicas).")
    ] = True,
) -> None:
    """Serve GraphQL at /graphql and GraphiQL at /, and run the feed scheduler."""
    import uvicorn

    from server.web.app import create_app
    from server.web.logs import setup

    settings = load_settings(host=host, port=port)
    if not scheduler:
        settings = settings.model_copy(update={"scheduler": False})
    if demo:
        settings = settings.model_copy(update={"demo": True})
        upgrade_and_seed(settings, with_seed=True)
    if settings.scheduler and settings.feeds_file.is_file():
        # Read here too, before uvicorn: a broken file fails in one line, as `worker` does,
        # not in a traceback of the application's start-up.
        try:
            sync_config.read_toml(settings.feeds_file)
        except SyncError as exc:
            fail(exc)
    setup(settings.log_format, settings.log_level)
    logging.getLogger("alliance").info(
        "serving on http://%s:%s/ (database %s)",
        settings.host,
        settings.port,
        settings.database_url.split("@")[-1],
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        log_config=None,  # uvicorn's own lines go through our handler (JSON in production)
    )
