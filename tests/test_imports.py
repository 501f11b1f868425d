"""No import circle anywhere: the library's modules (imports at any depth, package ``__init__`` included) and the
bench scripts form an acyclic graph, so every module can be read after the ones it uses."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "workflow" / "bows"
BENCH = ROOT / "bench"


def module_names(package: Path) -> dict[str, Path]:
    """Dotted name → file of every module of ``package`` (a package's ``__init__`` under the package's name)."""
    names = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The known modules that module ``name`` (file ``path``) imports, at module level or inside functions."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return {m for m in found if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    known = set(files)
    return {name: imported(name, path, known) for name, path in files.items()}


def test_a_planted_circle_is_found(tmp_path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import f\n")
    (package / "b.py").write_text("def f():\n    from . import c\n")
    (package / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text("from .a import f\n")
    assert cycles(import_graph(module_names(package))) == [["pkg.a", "pkg.b", "pkg.c"]]
    (package / "c.py").write_text("")
    assert cycles(import_graph(module_names(package))) == []


def test_the_library_has_no_import_circle() -> None:
    graph = import_graph(module_names(PACKAGE))
    assert len(graph) > 80
    assert cycles(graph) == []


def test_the_bench_scripts_have_no_import_circle() -> None:
    files = {path.stem: path for path in BENCH.glob("*.py")}
    graph = import_graph(files)
    assert "step_timing" in graph["gpu_check"] and "step_timing" in graph["train_step"]
    assert cycles(graph) == []
