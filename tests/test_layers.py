"""One direction of imports (docs/architecture.md): server/cli → server/web → server/graph →
sync → store, and the settings in server/config.py below all three rooms of server."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each room, and the rooms it must never import (a room is a package path).
FORBIDDEN = {
    "store": {"sync", "server"},
    "sync": {"server"},
    "server.graph": {"server.web", "server.cli"},
    "server.web": {"server.cli"},
    "server.config": {"server.graph", "server.web", "server.cli"},  # the settings all rooms read
}


def _module(path: Path) -> str:
    """The dotted name of a module below ROOT: server/graph/loaders.py is server.graph.loaders."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, relative imports made absolute."""
    found = set()
    package = _module(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            found.add(stem)
            # `from server import web` imports the module server.web.
            found |= {f"{stem}.{alias.name}" for alias in node.names}
    return found


def _reaches(imported: str, room: str) -> bool:
    return imported == room or imported.startswith(room + ".")


def _violations(path: Path, forbidden: set[str]) -> list[str]:
    return sorted({name for name in _imports(path) for room in forbidden if _reaches(name, room)})


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_imports_only_downwards(room):
    place = ROOT.joinpath(*room.split("."))
    files = list(place.rglob("*.py")) if place.is_dir() else [place.with_suffix(".py")]
    assert files, f"no modules found in {room}"
    wrong = {
        str(path.relative_to(ROOT)): found
        for path in files
        if (found := _violations(path, FORBIDDEN[room]))
    }
    assert not wrong, f"{room} must not import {sorted(FORBIDDEN[room])}: {wrong}"


def test_the_check_sees_absolute_and_relative_imports(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    module = tmp_path / "server" / "graph" / "bad.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import sync.fetch\nfrom server.web.app import create_app\nfrom ..cli import serve\n"
        "from server import web\nfrom . import loaders\n"
    )
    assert _violations(module, FORBIDDEN["server.graph"]) == [
        "server.cli",
        "server.cli.serve",
        "server.web",
        "server.web.app",
        "server.web.app.create_app",
    ]
    assert _violations(module, FORBIDDEN["store"]) == [
        "server",
        "server.cli",
        "server.cli.serve",
        "server.graph",
        "server.graph.loaders",
        "server.web",
        "server.web.app",
        "server.web.app.create_app",
        "sync.fetch",
    ]
