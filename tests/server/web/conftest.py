"""Fixtures: the browser files as `graphiql_assets` would install them, or none."""

from pathlib import Path

import pytest

from server.web import graphiql_assets


@pytest.fixture
def installed(tmp_path: Path, monkeypatch) -> Path:
    """A complete set of stand-in files for the pinned versions, written the way fetch writes
    them (the browser check covers the real bundles; these tests must not need the network)."""
    directory = tmp_path / "graphiql"
    contents = {name: f"/* stand-in {name} */".encode() for name in graphiql_assets.file_names()}
    graphiql_assets._install(directory, graphiql_assets.PACKAGES, contents)
    monkeypatch.setenv(graphiql_assets.DIR_ENV, str(directory))
    return directory


@pytest.fixture
def missing(tmp_path: Path, monkeypatch) -> Path:
    directory = tmp_path / "empty"
    directory.mkdir()
    monkeypatch.setenv(graphiql_assets.DIR_ENV, str(directory))
    return directory
