"""One direction of imports: server → sync → store; inside server, cli → web → the schema."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"store": {"sync", "server"}, "sync": {"server"}}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package):
    files = list((ROOT / package).rglob("*.py"))
    assert files, f"no modules found in {package}/"
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in files
        if _imports(path) & FORBIDDEN[package]
    }
    assert not wrong, f"{package} must not import {sorted(FORBIDDEN[package])}: {wrong}"


def _modules(path: Path) -> set[str]:
    """Every module `path` imports, by its full dotted name (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:  # `from ..x import y` in server/cli names server.x
                parent = package.rsplit(".", node.level - 1)[0]
                base = ".".join(filter(None, [parent, node.module]))
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


# The command imports the web process, which imports the schema; never the other way round.
ABOVE = {"server.cli": ("server/cli",), "server.web": ("server/cli", "server/web")}


@pytest.mark.parametrize("room", sorted(ABOVE))
def test_server_rooms_import_only_downwards(room):
    wrong = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "server").rglob("*.py")
        if not str(path.relative_to(ROOT)).startswith(ABOVE[room])
        and any(name == room or name.startswith(room + ".") for name in _modules(path))
    }
    assert not wrong, f"only {ABOVE[room]} may import {room}: {sorted(wrong)}"


def test_the_check_sees_a_violation(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from server.web.app import create_app\nimport sync.fetch\n")
    assert _imports(module) == {"server", "sync"}


def test_the_check_resolves_relative_imports():
    assert "server.web.app" in _modules(ROOT / "server" / "cli" / "serve.py")
    assert "server.web.graphiql_assets" in _modules(ROOT / "server" / "web" / "graphiql.py")
