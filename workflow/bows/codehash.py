"""Results follow the code: a hash of the library code a job runs.

Every rule's params carry :func:`code_hash` of its script. The hash covers the script and its import closure inside
the ``bows`` package (every ``bows`` module it imports, directly or through others, with the ``__init__`` of each
package on the way), normalised so that comments, docstrings and formatting do not count: a comment edit reruns
nothing, a changed metric function reruns the jobs whose scripts import the metrics module, and never training.
Package data files a module names (``"data/word_lists.json"``) count with that module.

The closure is static (``import`` statements, at module granularity); a module imported by name at run time
(``importlib.import_module``) is not followed, so scripts import what they run explicitly.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "bows"
PACKAGE_DIR = Path(__file__).resolve().parent


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Drop the docstring of the module and of every class and function (they never change what code does)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _stamp(path: Path) -> tuple[Path, int, int]:
    """Cache key of a file's content: a file edited in the same process is read again."""
    st = path.stat()
    return path, st.st_mtime_ns, st.st_size


@cache
def _parse_cached(key: tuple[Path, int, int]) -> ast.Module:
    return ast.parse(key[0].read_text(encoding="utf-8"), filename=str(key[0]))


def _parse(path: Path) -> ast.Module:
    return _parse_cached(_stamp(path))


@cache
def _normalised_cached(key: tuple[Path, int, int]) -> str:
    return ast.dump(_strip_docstrings(ast.parse(key[0].read_text(encoding="utf-8"))), include_attributes=False)


def normalised_source(path: Path) -> str:
    """The module's syntax tree without docstrings, positions or comments: equal for equal code."""
    return _normalised_cached(_stamp(path))


def _module_file(parts: tuple[str, ...], package_dir: Path) -> Path | None:
    """File of the module ``bows.<parts>`` (a package's ``__init__.py`` or a ``.py``), or None outside the package."""
    base = package_dir.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _module_parts(path: Path, package_dir: Path) -> tuple[str, ...]:
    """``bows/metrics/geometry.py`` -> ("metrics", "geometry"); a package's __init__ -> the package's parts."""
    rel = path.relative_to(package_dir).with_suffix("")
    parts = rel.parts
    return parts[:-1] if parts and parts[-1] == "__init__" else parts


def _with_parents(parts: tuple[str, ...], package_dir: Path) -> list[Path]:
    """The module's file and the ``__init__`` of every package above it (importing it runs them all)."""
    files = [package_dir / "__init__.py"]
    for k in range(1, len(parts) + 1):
        found = _module_file(parts[:k], package_dir)
        if found is not None:
            files.append(found)
    return files


def _imported(path: Path, package_dir: Path) -> list[Path]:
    """Files of the package modules that ``path`` imports (absolute ``bows.…`` and relative imports)."""
    inside = path.resolve().is_relative_to(package_dir)
    here = _module_parts(path, package_dir) if inside else ()
    is_package = path.name == "__init__.py"
    targets: list[tuple[str, ...]] = []
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            targets += [tuple(a.name.split(".")[1:]) for a in node.names if a.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if not inside:
                    continue
                anchor = here if is_package else here[:-1]
                base = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base += tuple(node.module.split(".")) if node.module else ()
            elif node.module and node.module.split(".")[0] == PACKAGE:
                base = tuple(node.module.split(".")[1:])
            else:
                continue
            targets.append(base)
            # ``from pkg import name``: name may be a submodule
            targets += [base + (a.name,) for a in node.names if _module_file(base + (a.name,), package_dir)]
    files: list[Path] = []
    for parts in targets:
        files += _with_parents(parts, package_dir)
    return files


def import_closure(script: str | Path, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The script and every package module it runs through imports, sorted (the script first)."""
    script = Path(script).resolve()
    seen: set[Path] = set()
    todo = [script]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [p for p in _imported(path, package_dir) if p not in seen]
    return [script] + sorted(seen - {script})


def _data_files(path: Path, package_dir: Path) -> list[Path]:
    """Package data files (``data/...``) that a module names in a string constant."""
    names = {n.value for n in ast.walk(_parse(path)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return sorted(package_dir / n for n in names if n.startswith("data/") and (package_dir / n).is_file())


def code_hash(*scripts: str | Path, package_dir: Path = PACKAGE_DIR) -> str:
    """sha256 (16 hex) of the normalised import closure of ``scripts`` (files, read in order) and the package data
    their modules name."""
    digest = hashlib.sha256()
    seen: set[Path] = set()
    for script in scripts:
        for path in import_closure(script, package_dir):
            if path in seen:
                continue
            seen.add(path)
            rel = path.relative_to(package_dir) if path.is_relative_to(package_dir) else Path(path.name)
            digest.update(f"{rel}\n".encode() + normalised_source(path).encode())
            for data in _data_files(path, package_dir):
                digest.update(f"{data.relative_to(package_dir)}\n".encode() + data.read_bytes())
    return digest.hexdigest()[:16]


def module_file(module: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """The file of a package module given by its dotted name (``bows.stages.months``)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        raise ValueError(f"{module} is not a module of the {PACKAGE} package")
    found = _module_file(tuple(parts[1:]), package_dir)
    if found is None:
        raise ValueError(f"no module {module} in {package_dir}")
    return found


# the one adapter every stage rule runs (workflow/scripts/stage.py): its code counts in every stage's hash
STAGE_SCRIPT = PACKAGE_DIR.parent / "scripts" / "stage.py"


def stage_hash(module: str, package_dir: Path = PACKAGE_DIR) -> str:
    """Hash of the code a stage rule runs: the adapter script and the stage module's import closure."""
    return code_hash(STAGE_SCRIPT, module_file(module, package_dir), package_dir=package_dir)
