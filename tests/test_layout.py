"""The layout docs/architecture.md describes: packages import one way only, and the product stands on its own."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("fleetui", "runs", "triage", "notifications")


def product_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every product module (migrations aside)."""
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def package_of(path: Path) -> str:
    """A domain folder (`runs/imports`), or the app itself for its top-level files."""
    parts = path.relative_to(ROOT).parts
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def imported_names(path: Path, module: str):
    """Every dotted name the file imports, at the top or inside functions."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def package_graph() -> dict[str, set[str]]:
    modules = product_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        source = package_of(path)
        targets = graph.setdefault(source, set())
        for name in imported_names(path, module):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and package_of(modules[name]) != source:
                targets.add(package_of(modules[name]))
    return graph


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), list(graph.get(start, ()))
    while todo:
        package = todo.pop()
        if package == goal:
            return True
        if package not in seen:
            seen.add(package)
            todo.extend(graph.get(package, ()))
    return False


def test_no_two_packages_import_each_other_in_a_circle():
    graph = package_graph()

    circles = sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and reaches(graph, b, a))

    assert not circles, f"packages in a circle: {circles}"


def test_the_pure_engine_and_the_kit_import_no_other_package():
    graph = package_graph()

    assert graph["triage/engine"] == set()
    assert graph["fleetui/common"] == set()


def test_clustering_follows_import_through_a_signal_only():
    graph = package_graph()

    assert "triage/clusters" not in graph["runs/imports"]
    assert not reaches(graph, "runs/imports", "triage/clusters")


def test_nothing_in_the_product_imports_from_the_tests():
    modules = product_modules()

    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for module, path in modules.items()
        for name in imported_names(path, module)
        if name.split(".")[0] == "tests"
    )

    assert not offenders
