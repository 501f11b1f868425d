"""bows.codehash: what counts as a code change, which modules a script runs, and that every rule carries the hash.

The rerun behaviour itself (a metric change reruns metric jobs, never training) is tested end to end on the smoke
preset in test_figures_regen.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from bows import codehash

from conftest import ROOT

SCRIPTS = ROOT / "workflow" / "scripts"


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A throwaway package named ``bows`` under tmp_path, with a script beside it; returns the package dir."""
    pkg = tmp_path / "bows"
    for rel, text in {"__init__.py": "", **files}.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


def _same(tmp_path: Path, a: str, b: str) -> bool:
    pa, pb = tmp_path / "a.py", tmp_path / "b.py"
    pa.write_text(a)
    pb.write_text(b)
    return codehash.normalised_source(pa) == codehash.normalised_source(pb)


def test_comments_docstrings_and_formatting_do_not_count(tmp_path: Path) -> None:
    plain = "def f(x, y):\n    return x + y\n"
    dressed = ('"""Module doc."""\n# a comment\n\n\ndef f(x,\n      y):  # trailing\n'
               '    """Function doc."""\n    return (x +\n            y)\n')
    assert _same(tmp_path, plain, dressed)
    only_doc = 'def f():\n    """Only a docstring."""\n'
    assert _same(tmp_path, only_doc, "def f():\n    pass\n")


def test_code_changes_count(tmp_path: Path) -> None:
    plain = "def f(x, y):\n    return x + y\n"
    assert not _same(tmp_path, plain, "def f(x, y):\n    return x - y\n")
    assert not _same(tmp_path, plain, "def f(x, y):\n    return y + x\n")
    assert not _same(tmp_path, plain, 'def f(x, y):\n    return x + y\nLABEL = "a"\n')
    # a string that is not a docstring is code
    assert not _same(tmp_path, "def f():\n    x = 1\n    'note'\n", "def f():\n    x = 1\n    'other'\n")


def test_closure_follows_relative_absolute_and_package_imports(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {
        "a.py": "from . import b\nfrom .sub.c import g\n",
        "b.py": "import numpy\nfrom .errors import E\n",
        "errors.py": "class E(Exception):\n    pass\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..b import x\ng = 1\n",
        "unused.py": "import bows.a\n",
        "other.py": "",
    })
    script = tmp_path / "script.py"
    script.write_text("import sys\nfrom bows.a import run\nimport bows.other\n")
    closure = codehash.import_closure(script, pkg)
    assert closure[0] == script.resolve()
    assert {p.relative_to(pkg).as_posix() for p in closure[1:]} == {
        "__init__.py", "a.py", "b.py", "errors.py", "sub/__init__.py", "sub/c.py", "other.py"}


def test_hash_follows_imported_modules_and_named_data_only(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {
        "a.py": 'from . import b\nWORDS = "data/words.json"\n',
        "b.py": "X = 1\n",
        "unused.py": "Y = 1\n",
        "data/words.json": '["a"]',
        "data/other.json": '["b"]',
    })
    script = tmp_path / "script.py"
    script.write_text("from bows.a import WORDS\n")
    before = codehash.code_hash(script, pkg)
    assert len(before) == 16

    (pkg / "unused.py").write_text("Y = 2\n")
    (pkg / "data" / "other.json").write_text('["c"]')
    assert codehash.code_hash(script, pkg) == before, "a module or data file the script never uses counted"

    (pkg / "b.py").write_text("X = 2\n")
    after_b = codehash.code_hash(script, pkg)
    assert after_b != before
    (pkg / "data" / "words.json").write_text('["a", "z"]')
    assert codehash.code_hash(script, pkg) != after_b


def _closure(script: str) -> set[str]:
    return {p.relative_to(codehash.PACKAGE_DIR).as_posix() for p in codehash.import_closure(SCRIPTS / script)[1:]}


def test_training_does_not_run_metric_or_plotting_code() -> None:
    train = _closure("train_model.py")
    assert {"train.py", "model.py"} <= train
    assert not [m for m in train if m.startswith(("metrics/", "figures/", "synthetic/"))], train
    metrics = _closure("metrics_model.py")
    assert "metrics/geometry.py" in metrics and "train.py" not in metrics
    assert not [m for m in metrics if m.startswith("figures/")], metrics


def test_every_rule_with_a_script_carries_its_code_hash() -> None:
    """Each rule's params hold code=code_of(<its own script>), so every job reruns when the code it runs changes."""
    rules = 0
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule |checkpoint )", path.read_text())[1:]:
            name = block.split()[1].rstrip(":")
            script = re.search(r'script:\s+"\.\./scripts/(\w+\.py)"', block)
            if script is None:
                continue
            rules += 1
            assert f'code=code_of("{script.group(1)}")' in block, f"{path.name}: rule {name} lacks its code hash"
    assert rules >= 30
