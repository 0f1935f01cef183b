"""Feed configuration: checked on the way in, declared in feeds.toml, secrets from the env."""

import pytest

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
