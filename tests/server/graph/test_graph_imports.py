"""The schema's modules import one way: areas refer back to each other only through
`strawberry.lazy`, and the core knows no area (server/graph/__init__.py)."""

import ast
from pathlib import Path

GRAPH = Path(__file__).resolve().parents[3] / "server" / "graph"
AREAS = {"members", "organisations", "people", "partnerships", "events"}
# The root fields, which know every area: where they are declared and where they are compiled.
WIRING = {"server.graph.nodes", "server.graph.schema", "server.graph.compiled.planner"}


def _name(path: Path) -> str:
    parts = path.relative_to(GRAPH.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    """The server.graph modules that module `name` (in `path`) imports when it runs: not those
    only a type checker reads, under TYPE_CHECKING."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checking_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", None) == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or id(node) in checking_only:
            continue
        base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
        module = ".".join([*base, *([node.module] if node.module else [])])
        found |= {module} if node.module else {f"{module}.{alias.name}" for alias in node.names}
    return {m for m in found if m.startswith("server.graph.")}


def _area(module: str) -> str | None:
    parts = module.split(".")  # server.graph.<area>.<module>
    return parts[2] if len(parts) > 3 and parts[2] in AREAS else None


def _graph() -> dict[str, set[str]]:
    modules = {_name(path): path for path in GRAPH.rglob("*.py")}
    return {name: _imports(path, name) & set(modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A chain of imports that comes back to its start, or None."""
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> list[str] | None:
        if module in trail:
            return [*trail[trail.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            found = visit(imported, [*trail, module])
            if found:
                return found
        done.add(module)
        return None

    return next((c for c in (visit(m, []) for m in sorted(graph)) if c), None)


def test_no_module_of_the_schema_imports_itself_back():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_core_imports_no_area():
    core = {m: i for m, i in _graph().items() if _area(m) is None and m not in WIRING}
    wrong = {m: sorted(i) for m, i in core.items() if any(_area(x) for x in i)}
    assert "server.graph.relations" in core and not wrong, f"the core imports areas: {wrong}"


def test_the_checks_see_what_they_look_for(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .members.types import Member\nfrom . import ids\n"
        "if TYPE_CHECKING:\n    from .events.types import Event\n"
    )
    found = _imports(module, "server.graph.bad")
    assert found == {"server.graph.members.types", "server.graph.ids"}
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
