"""Fetching GraphiQL's files: pinned hashes decide; a failure never leaves a set marked complete.

A small registry on loopback serves tarballs built here; the real registry is not contacted.
"""

import base64
import hashlib
import io
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from server.web import graphiql_assets
from server.web.graphiql_assets import MARKER, AssetError, Package

JS = b"window.Thing = 1;\n"
CSS = b".thing { color: red }\n"


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


TARBALL = _tarball(
    {"package/thing.min.js": JS, "package/thing.min.css": CSS, "package/README.md": b"x"}
)
PACKAGES = (
    Package(
        "thing",
        "1.2.3",
        _sri(TARBALL),
        (
            ("package/thing.min.css", "thing-1.2.3.min.css"),
            ("package/thing.min.js", "thing-1.2.3.min.js"),
        ),
    ),
)


class _Registry:
    """Serves `routes` (path → body); anything else is 404. Counts requests."""

    def __init__(self) -> None:
        self.routes = {"/thing/-/thing-1.2.3.tgz": TARBALL}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                registry.requests.append(self.path)
                body = registry.routes.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def registry():
    registry = _Registry()
    thread = threading.Thread(target=registry.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield registry
    registry.server.shutdown()
    registry.server.server_close()


def _fetch(directory: Path, registry: _Registry, packages=PACKAGES) -> bool:
    return graphiql_assets.fetch(directory, packages=packages, registry=registry.url)


def test_fetch_installs_the_files_and_marks_the_set_complete(tmp_path, registry):
    assert _fetch(tmp_path, registry) is True

    assert (tmp_path / "thing-1.2.3.min.js").read_bytes() == JS
    assert (tmp_path / "thing-1.2.3.min.css").read_bytes() == CSS
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        MARKER,
        "thing-1.2.3.min.css",
        "thing-1.2.3.min.js",
    ]
    assert graphiql_assets.assets_ready(tmp_path, PACKAGES)


def test_second_fetch_skips_the_network(tmp_path, registry):
    _fetch(tmp_path, registry)

    assert _fetch(tmp_path, registry) is False
    assert len(registry.requests) == 1


def test_a_changed_file_is_fetched_again(tmp_path, registry):
    _fetch(tmp_path, registry)
    (tmp_path / "thing-1.2.3.min.js").write_bytes(b"tampered")

    assert _fetch(tmp_path, registry) is True
    assert (tmp_path / "thing-1.2.3.min.js").read_bytes() == JS


def test_hash_mismatch_is_refused_and_writes_nothing(tmp_path, registry):
    registry.routes["/thing/-/thing-1.2.3.tgz"] = _tarball(
        {"package/thing.min.js": b"evil", "package/thing.min.css": CSS}
    )

    with pytest.raises(AssetError, match="does not match its pinned hash") as error:
        _fetch(tmp_path, registry)

    assert PACKAGES[0].integrity in str(error.value)
    assert list(tmp_path.iterdir()) == []
    assert not graphiql_assets.assets_ready(tmp_path, PACKAGES)


def test_a_failed_refetch_leaves_the_previous_set_intact(tmp_path, registry):
    _fetch(tmp_path, registry)
    (tmp_path / "thing-1.2.3.min.js").write_bytes(b"tampered")  # forces a download
    registry.routes.clear()

    with pytest.raises(AssetError, match="HTTP 404"):
        _fetch(tmp_path, registry)

    assert (tmp_path / MARKER).exists()
    assert (tmp_path / "thing-1.2.3.min.css").read_bytes() == CSS


def test_a_pinned_file_missing_from_the_tarball_is_an_error(tmp_path, registry):
    tarball = _tarball({"package/thing.min.css": CSS})
    registry.routes["/thing/-/thing-1.2.3.tgz"] = tarball
    packages = (Package("thing", "1.2.3", _sri(tarball), PACKAGES[0].files),)

    with pytest.raises(AssetError, match="has no file 'package/thing.min.js'"):
        _fetch(tmp_path, registry, packages)
    assert not (tmp_path / MARKER).exists()


def test_a_new_pin_replaces_the_old_files(tmp_path, registry):
    _fetch(tmp_path, registry)
    tarball = _tarball({"package/thing.min.js": b"v2", "package/thing.min.css": CSS})
    registry.routes["/thing/-/thing-2.0.0.tgz"] = tarball
    v2 = (
        Package("thing", "2.0.0", _sri(tarball), (("package/thing.min.js", "thing-2.0.0.min.js"),)),
    )

    assert not graphiql_assets.assets_ready(tmp_path, v2)
    assert _fetch(tmp_path, registry, v2) is True

    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "thing-2.0.0.min.js"]
    assert graphiql_assets.assets_ready(tmp_path, v2)


def test_cli_reports_a_network_failure_and_exits_non_zero(tmp_path, monkeypatch, capsys, registry):
    registry.server.shutdown()
    registry.server.server_close()  # nothing listens on the port any more
    monkeypatch.setenv(graphiql_assets.DIR_ENV, str(tmp_path))
    monkeypatch.setenv(graphiql_assets.REGISTRY_ENV, registry.url)

    assert graphiql_assets.main(["fetch"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("error: browser assets not installed: could not download")
    assert registry.url in err
    assert not (tmp_path / MARKER).exists()


def test_cli_reports_a_hash_mismatch_and_exits_non_zero(tmp_path, monkeypatch, capsys, registry):
    # The real pins against a registry that answers with something else.
    for package in graphiql_assets.PACKAGES:
        registry.routes[package.tarball_url("")] = TARBALL
    monkeypatch.setenv(graphiql_assets.DIR_ENV, str(tmp_path))
    monkeypatch.setenv(graphiql_assets.REGISTRY_ENV, registry.url)

    assert graphiql_assets.main(["fetch"]) == 1

    assert "does not match its pinned hash" in capsys.readouterr().err
    assert not graphiql_assets.assets_ready(tmp_path)


def test_assets_dir_follows_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv(graphiql_assets.DIR_ENV, str(tmp_path))
    assert graphiql_assets.assets_dir() == tmp_path

    monkeypatch.delenv(graphiql_assets.DIR_ENV)
    assert graphiql_assets.assets_dir().parts[-4:] == ("server", "web", "static", "graphiql")
