"""The package's layout: which modules import which, read from their source."""

import ast
from pathlib import Path

import skbert

PACKAGE = Path(skbert.__file__).parent
#: The one cycle kept: the save format knows its closed set of estimators.
ALLOWED_CYCLE = {
    "skbert.base",
    "skbert.classifier",
    "skbert.fewshot",
    "skbert.persistence",
    "skbert.regressor",
    "skbert.vectorizer",
    "skbert.zeroshot",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The skbert modules `path` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        module = getattr(node, "module", None) or ""
        if isinstance(node, ast.ImportFrom) and module.startswith("skbert"):
            named = {f"{node.module}.{alias.name}" for alias in node.names}
            found |= (named & modules) or {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("skbert.")}
    return found & modules


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {
        name: imported_modules(path, modules) - {name} for name, path in paths.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module."""
    reach = {}
    for start in graph:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        reach[start] = seen
    components = {
        frozenset({m for m in graph if m in reach[start] and start in reach[m]})
        for start in graph
        if start in reach[start]
    }
    return [set(c) for c in components]


def test_modules_import_in_one_direction_but_for_the_save_format():
    graph = import_graph()
    assert {"skbert.model", "skbert.features", "skbert.batching"} <= set(graph)
    assert cycles(graph) == [ALLOWED_CYCLE]


def test_the_cycle_finder_sees_a_cycle_through_a_lazy_import():
    graph = import_graph()
    graph["skbert.model"] = graph["skbert.model"] | {"skbert.features"}
    assert {"skbert.model", "skbert.features"} in cycles(graph)
