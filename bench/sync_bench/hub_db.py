"""The hub's database for one bench run, through the project's own store: migrate it and save
the feed (`prepare`), read and clear the feed's stored validators (the ETag and Last-Modified
that make the second fetch a 304 and, cleared, the third a 200), and its version and size."""

SLUG = "bench-large"


async def _with_engine(url: str, work):
    from store.config import StoreSettings
    from store.db import create_engine

    engine = create_engine(StoreSettings(database_url=url))
    try:
        return await work(engine)
    finally:
        await engine.dispose()


async def prepare(url: str, feed_url: str) -> None:
    """Migrates the database and saves the feed."""
    from store import migrate
    from sync import config

    async def work(engine) -> None:
        await migrate.upgrade(engine)
        spec = config.spec(
            slug=SLUG,
            url=feed_url,
            format="alliance-feed/1",
            allow_private=True,  # the feed is on loopback
            max_bytes=2**31 - 1,  # the column is a 32-bit integer
            deadline=600,
            read_timeout=60,
        )
        await config.save(engine, spec)

    await _with_engine(url, work)


async def feed_validators(url: str) -> tuple[str | None, str | None]:
    from sqlalchemy import select

    from store.registry import FEED as table

    async def work(engine):
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(table.c.etag, table.c.last_modified).where(table.c.slug == SLUG)
                )
            ).one()
        return row.etag, row.last_modified

    return await _with_engine(url, work)


async def clear_validators(url: str, feed_url: str | None = None) -> None:
    """Forget the stored ETag and Last-Modified, so the next fetch is a plain GET (a 200);
    with `feed_url`, the feed is fetched from there from now on."""
    from sqlalchemy import update

    from store.registry import FEED as table

    values = {"etag": None, "last_modified": None}
    if feed_url is not None:
        values["url"] = feed_url

    async def work(engine) -> None:
        async with engine.begin() as connection:
            await connection.execute(update(table).where(table.c.slug == SLUG).values(values))

    await _with_engine(url, work)


async def database_facts(url: str, pg: bool) -> dict:
    from sqlalchemy import text

    async def work(engine) -> dict:
        async with engine.connect() as connection:
            if pg:
                return {
                    "version": await connection.scalar(text("SHOW server_version")),
                    "size_mib": round(
                        await connection.scalar(text("SELECT pg_database_size(current_database())"))
                        / 2**20,
                        1,
                    ),
                }
            return {"version": await connection.scalar(text("SELECT sqlite_version()"))}

    return await _with_engine(url, work)
