"""The third-party browser files of GraphiQL and of the operator console, fetched from the npm
registry and checked against pinned hashes.

`python -m server.web.graphiql_assets fetch` puts them in `assets_dir()`; `server.web.graphiql`
serves them under `/graphiql/`, for its page and for `server.web.console`'s. The files are not
in git (they are third-party builds), so every install fetches
the exact tarballs pinned below and refuses anything else. Standard library only: it runs before
the project's dependencies are installed (Makefile, Dockerfile).

The marker `.complete` is written last and lists every file with its SHA-256, so a directory
with a marker always holds a whole, verified set; a directory without one is treated as empty.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
DIR_ENV = "ALLIANCE_GRAPHIQL_DIR"
# A mirror with the same tarballs is safe: the pinned hashes still decide what is accepted.
REGISTRY_ENV = "ALLIANCE_NPM_REGISTRY"
MARKER = ".complete"
_DEFAULT_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
_MAX_TARBALL = 64 * 1024 * 1024  # graphiql's is ~2 MB; a bigger answer is not what we pinned
_TIMEOUT = 60


@dataclass(frozen=True)
class Package:
    """One npm tarball and the files taken from it."""

    name: str
    version: str
    integrity: str  # `dist.integrity` from the registry's metadata for this exact version
    files: tuple[tuple[str, str], ...]  # (path inside the tarball, name served under /graphiql/)

    def tarball_url(self, registry: str) -> str:
        basename = self.name.rsplit("/", 1)[-1]
        return f"{registry.rstrip('/')}/{self.name}/-/{basename}-{self.version}.tgz"


# Served names carry the version: a bump changes the URL, so browsers may cache them forever.
# Order matters: the page loads scripts in this order (GraphiQL's UMD needs React first).
GRAPHIQL: tuple[Package, ...] = (
    Package(
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        (("package/umd/react.production.min.js", "react-18.3.1.production.min.js"),),
    ),
    Package(
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        (("package/umd/react-dom.production.min.js", "react-dom-18.3.1.production.min.js"),),
    ),
    Package(
        "graphiql",
        "3.8.3",
        "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        (
            ("package/graphiql.min.css", "graphiql-3.8.3.min.css"),
            ("package/graphiql.min.js", "graphiql-3.8.3.min.js"),
        ),
    ),
)
# The console's one: the reference graphql-transport-ws client, which reconnects by itself.
CONSOLE: tuple[Package, ...] = (
    Package(
        "graphql-ws",
        "6.0.6",
        "sha512-zgfER9s+ftkGKUZgc0xbx8T7/HMO4AV5/YuYiFc+AtgcO5T0v8AxYYNQ+ltzuzDZgNkYJaFspm5MMYLjQzrkmw==",
        (("package/umd/graphql-ws.min.js", "graphql-ws-6.0.6.min.js"),),
    ),
)
PACKAGES = GRAPHIQL + CONSOLE


class AssetError(Exception):
    """The browser files could not be fetched or did not match their pinned hashes."""


def assets_dir() -> Path:
    """Where the files live: `$ALLIANCE_GRAPHIQL_DIR`, else `server/web/static/graphiql/`."""
    configured = os.environ.get(DIR_ENV)
    return Path(configured) if configured else _DEFAULT_DIR


def file_names(packages: tuple[Package, ...] = PACKAGES) -> list[str]:
    """The served file names, in load order."""
    return [served for package in packages for _, served in package.files]


def assets_ready(directory: Path | None = None, packages: tuple[Package, ...] = PACKAGES) -> bool:
    """Whether a complete set for the pinned versions is installed (cheap: no hashing)."""
    directory = directory or assets_dir()
    manifest = _read_manifest(directory / MARKER)
    if manifest is None or manifest.get("packages") != _pins(packages):
        return False
    return all((directory / name).is_file() for name in file_names(packages))


def fetch(
    directory: Path | None = None,
    *,
    packages: tuple[Package, ...] = PACKAGES,
    registry: str | None = None,
) -> bool:
    """Install the pinned files into `directory`; False when a verified set was already there.

    Everything is downloaded and verified before the first file is written, so a network or
    hash failure leaves an existing installation as it was.
    """
    directory = directory or assets_dir()
    if _installed_and_intact(directory, packages):
        return False
    registry = registry or os.environ.get(REGISTRY_ENV) or REGISTRY
    contents = {}
    for package in packages:
        contents.update(_extract(package, _download(package, registry)))
    _install(directory, packages, contents)
    return True


def _download(package: Package, registry: str) -> bytes:
    url = package.tarball_url(registry)
    request = urllib.request.Request(url, headers={"User-Agent": "alliance-hub graphiql_assets"})
    # Caught: URLError/HTTPError, DNS, refused, timeout, and HTTPException (a body cut short).
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            body = response.read(_MAX_TARBALL + 1)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise AssetError(f"could not download {url}: {_reason(exc)}") from exc
    if len(body) > _MAX_TARBALL:
        raise AssetError(f"{url} is larger than {_MAX_TARBALL} bytes; refusing it")
    actual = _integrity(body, package.integrity)
    if actual != package.integrity:
        raise AssetError(
            f"{package.name}@{package.version} from {url} does not match its pinned hash\n"
            f"  expected {package.integrity}\n  got      {actual}"
        )
    return body


def _extract(package: Package, tarball: bytes) -> dict[str, bytes]:
    # Members are read by exact name into memory, never extracted by their own paths.
    found = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            members = {member.name: member for member in archive.getmembers() if member.isfile()}
            for member_path, served in package.files:
                if member_path not in members:
                    raise AssetError(
                        f"{package.name}@{package.version} has no file {member_path!r}"
                    )
                found[served] = archive.extractfile(members[member_path]).read()
        return found
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise AssetError(f"{package.name}@{package.version}: unreadable tarball ({exc})") from exc


def _install(directory: Path, packages: tuple[Package, ...], contents: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / MARKER
    old = _read_manifest(marker) or {}
    marker.unlink(missing_ok=True)  # from here until the end the set is not complete
    for name, data in contents.items():
        _write_atomically(directory / name, data)
    for stale in set(old.get("files", {})) - set(contents):  # files of a previous pin
        if stale == Path(stale).name and not stale.startswith("."):
            (directory / stale).unlink(missing_ok=True)
    manifest = {
        "packages": _pins(packages),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()},
    }
    _write_atomically(marker, json.dumps(manifest, indent=2, sort_keys=True).encode())


def _installed_and_intact(directory: Path, packages: tuple[Package, ...]) -> bool:
    if not assets_ready(directory, packages):
        return False
    recorded = (_read_manifest(directory / MARKER) or {}).get("files", {})
    return all(
        recorded.get(name) == hashlib.sha256((directory / name).read_bytes()).hexdigest()
        for name in file_names(packages)
    )


def _pins(packages: tuple[Package, ...]) -> dict[str, str]:
    return {f"{p.name}@{p.version}": p.integrity for p in packages}


def _read_manifest(marker: Path) -> dict | None:
    try:
        manifest = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _integrity(data: bytes, pinned: str) -> str:
    # Subresource-integrity format, as npm records it: "<algorithm>-<base64 digest>".
    algorithm = pinned.split("-", 1)[0]
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _reason(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    return str(getattr(exc, "reason", None) or exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m server.web.graphiql_assets",
        description="Fetch the browser files of GraphiQL and the console from the npm registry, "
        "checked against pinned hashes.",
    )
    parser.add_argument("command", choices=["fetch"])
    parser.parse_args(argv)
    directory = assets_dir()
    try:
        fetched = fetch(directory)
    except (AssetError, OSError) as exc:  # OSError: e.g. the directory is not writable
        print(f"error: browser assets not installed: {exc}", file=sys.stderr)
        return 1
    versions = ", ".join(f"{p.name} {p.version}" for p in PACKAGES)
    state = "installed" if fetched else "already installed"
    print(f"browser assets {state} in {directory} ({versions})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
