"""Feed configuration: checked on the way in, declared in feeds.toml, secrets from the env."""

import pytest
from sqlalchemy import select, update

from store.registry import FEED
from sync import config, runs
from sync.errors import ConfigError

TOML = """
[feeds.wfk]
url = "https://wfk.example/alliance.json"
format = "alliance-feed/1"
schedule = "15m"
headers = { Authorization = "env:WFK_TOKEN", Accept = "application/json" }

[feeds.staedte]
url = "https://example.org/staedte.csv"
format = "csv"
mode = "incremental"
options = { item_type = "member", columns = { Stadt = "name" } }
"""


def test_feeds_toml_declares_checked_feeds(tmp_path):
    path = tmp_path / "feeds.toml"
    path.write_text(TOML, encoding="utf-8")
    wfk, staedte = config.read_toml(path)
    assert (wfk.slug, wfk.schedule, wfk.headers["Authorization"]) == ("wfk", "15m", "env:WFK_TOKEN")
    assert (staedte.format, staedte.mode, staedte.options["item_type"]) == (
        "csv",
        "incremental",
        "member",
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[feeds.x\nurl = 1", "feeds.toml"),
        ('[feeds.x]\nurl = "https://a.example/f"\nformat = "xml"', "format"),
        ('[feeds.x]\nurl = "https://a.example/f"\nformat = "csv"\nschedul = "1h"', "schedul"),
        ('[feeds.x]\nurl = "https://a.example/f"\nformat = "csv"\nmax_delete_share = 2', "share"),
    ],
)
def test_a_wrong_declaration_names_the_file_or_field(tmp_path, text, needle):
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        config.read_toml(path)


def test_secret_headers_come_from_the_environment_and_are_never_stored(monkeypatch):
    feed = config.spec(
        slug="wfk",
        url="https://wfk.example/f",
        format="alliance-feed/1",
        headers={"Authorization": "env:WFK_TOKEN"},
    )
    stored = feed.model_dump()
    assert stored["headers"] == {"Authorization": "env:WFK_TOKEN"}
    monkeypatch.setenv("WFK_TOKEN", "Bearer s3cret")
    assert runs.headers_of(feed) == {"Authorization": "Bearer s3cret"}
    monkeypatch.delenv("WFK_TOKEN")
    with pytest.raises(ConfigError, match="WFK_TOKEN"):
        runs.headers_of(feed)


async def stored(engine, slug: str) -> dict:
    async with engine.connect() as connection:
        row = (await connection.execute(select(FEED).where(FEED.c.slug == slug))).one()
    return dict(row._mapping)


async def test_a_declaration_changes_only_what_it_names_and_a_new_url_starts_afresh(
    databases, tmp_path
):
    # given: a feed declared in feeds.toml, run (validators, cursor) and paused by an operator
    engine = (await databases.create()).engine
    path = tmp_path / "feeds.toml"
    path.write_text(TOML, encoding="utf-8")
    wfk = config.read_toml(path)[0]
    assert await config.save(engine, wfk) == "added"
    async with engine.begin() as connection:
        await connection.execute(
            update(FEED)
            .where(FEED.c.slug == "wfk")
            .values(etag='"v1"', last_modified="Wed, 25 Nov 2026 08:00:00 GMT", cursor="c1")
        )
    await config.pause(engine, "wfk")
    before = await stored(engine, "wfk")

    # when: the process starts again with the same declaration
    # then: nothing changes, not even the time of the last change
    assert await config.save(engine, wfk) == "unchanged"
    assert await stored(engine, "wfk") == before

    # when: the declaration names a new URL
    path.write_text(TOML.replace("wfk.example/alliance.json", "wfk.example/v2.json"), "utf-8")
    assert await config.save(engine, config.read_toml(path)[0]) == "updated"

    # then: the URL changed and it forgot the old one's validators and cursor; what the
    # declaration does not name (the pause) stays as the operator left it
    after = await stored(engine, "wfk")
    assert after["url"] == "https://wfk.example/v2.json"
    assert (after["etag"], after["last_modified"], after["cursor"]) == (None, None, None)
    assert after["enabled"] is False
    changed = {"url", "etag", "last_modified", "cursor", "updated_at"}
    assert {k: v for k, v in after.items() if k not in changed} == {
        k: v for k, v in before.items() if k not in changed
    }
