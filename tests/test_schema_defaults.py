"""Config defaults live in the schema only: the library reads the validated config and never repeats a default.

Two guards: a static scan of ``workflow/bows`` for ``.get("<key>", <literal>)`` and ``.get("<key>") or <literal>``
on keys the schema gives a default, and a check that no settings dataclass gives a config key's field a Python
default. Both are shown failing on planted examples.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import bows.config as bcfg
import pytest
import yaml
from bows import schema
from bows.errors import ConfigError
from bows.snapshots import SnapshotSettings
from bows.synthetic.data import DataSpec
from bows.synthetic.train import SynthTrainSettings
from bows.tokenize import TokenizerSpec
from bows.train import TrainSettings
from conftest import ROOT

PACKAGE = ROOT / "workflow" / "bows"

#: (module, key) pairs whose ``.get`` reads a data file or JSON result that happens to share a config key's name
DATA_READS = {("figures/criteria.py", "name")}

#: every settings dataclass built from a config section, and that section
SETTINGS = {
    TrainSettings: "train",
    TokenizerSpec: "vocab",
    DataSpec: "synthetic",
    SynthTrainSettings: "synthetic",
    SnapshotSettings: "train",
}


def _schema() -> dict[str, Any]:
    return yaml.safe_load(bcfg.SCHEMA_PATH.read_text(encoding="utf-8"))


def _keys_with_defaults(node: Any) -> Iterator[str]:
    """Names of every schema property (at any depth, ``$defs`` included) that has a default."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if isinstance(sub, dict) and "default" in sub:
                yield name
        for value in node.values():
            yield from _keys_with_defaults(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys_with_defaults(value)


DEFAULTED = frozenset(_keys_with_defaults(_schema()))


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def _get_key(node: ast.AST, nargs: int) -> str | None:
    """The key of a ``<x>.get("<key>"[, default])`` call with ``nargs`` arguments, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and len(node.args) == nargs
        and not node.keywords
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def default_copies(source: str, keys: frozenset[str] = DEFAULTED) -> list[tuple[int, str]]:
    """(line, key) of every ``.get("<key>", <literal>)`` and ``.get("<key>") or <literal>`` in ``source`` whose key
    the schema gives a default: a second copy of that default."""
    found = []
    for node in ast.walk(ast.parse(source)):
        key = _get_key(node, 2)
        if key in keys and _is_literal(node.args[1]):
            found.append((node.lineno, key))
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) >= 2:
            key = _get_key(node.values[0], 1)
            if key in keys and all(_is_literal(v) for v in node.values[1:]):
                found.append((node.lineno, key))
    return sorted(found)


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), path


def test_scan_finds_planted_default_copies():
    planted = (
        "def f(cfg, w):\n"
        "    a = cfg.get('seed', 42)\n"
        "    b = cfg.get('sources', ['gensim_enwiki'])\n"
        "    c = cfg.get('snapshot_groups') or ('Months',)\n"
        "    d = cfg.get('dpi', -1)\n"
        "    ok1 = cfg['seed']\n"
        "    ok2 = w.get('seed', cfg['seed'])\n"  # not a literal: reads the config
        "    ok3 = w.get('not_a_config_key', 0)\n"
        "    ok4 = cfg.get('revision')\n"
    )
    assert default_copies(planted) == [(2, "seed"), (3, "sources"), (4, "snapshot_groups"), (5, "dpi")]
    assert {"seed", "sources", "dpi", "group_size", "variant", "weight_decay", "strict"} <= DEFAULTED
    assert "activation" not in DEFAULTED  # a required key of figure_rows: no default


def test_library_repeats_no_schema_default():
    found = []
    for rel, path in _modules():
        found += [
            f"{rel}:{line}: .get({key!r}, …)"
            for line, key in default_copies(path.read_text(encoding="utf-8"))
            if (rel, key) not in DATA_READS
        ]
    assert not found, "defaults copied from the schema (index the validated config instead):\n" + "\n".join(found)


def field_defaults(cls: type, section: str) -> list[str]:
    """Fields of ``cls`` named like a key of config section ``section`` that carry a Python default."""
    keys = set(_schema()["properties"][section]["properties"])
    return [
        f.name for f in fields(cls) if f.name in keys and (f.default is not MISSING or f.default_factory is not MISSING)
    ]


def test_field_scan_finds_a_planted_default():
    from dataclasses import dataclass

    @dataclass
    class Planted:
        epochs: int
        lr: float = 5e-4
        progress: bool | None = None  # not a train key

    assert field_defaults(Planted, "train") == ["lr"]


@pytest.mark.parametrize("cls", list(SETTINGS), ids=lambda c: c.__name__)
def test_settings_fields_take_no_python_default(cls):
    assert field_defaults(cls, SETTINGS[cls]) == []


def test_every_settings_dataclass_is_checked():
    """A new dataclass with ``from_config`` in the library joins SETTINGS (and so the field check above)."""
    names = set()
    for _rel, path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.FunctionDef) and b.name == "from_config" for b in node.body
            ):
                names.add(node.name)
    assert names == {c.__name__ for c in SETTINGS}


def test_settings_from_the_schema_defaults():
    d = bcfg.defaults()
    assert TrainSettings.default() == TrainSettings.from_config(d["train"])
    assert TrainSettings.default(epochs=3).epochs == 3 and TrainSettings.default().epochs == d["train"]["epochs"]
    assert TokenizerSpec.default(tokenizer="nltk").engine == "nltk"
    assert DataSpec.from_config(d["synthetic"]).features == d["synthetic"]["features"]
    with pytest.raises(ConfigError):
        TrainSettings.from_config({"epochs": 3})  # a partial section is refused, naming the missing keys


def test_section_merges_overrides_into_validated_defaults():
    corpus = bcfg.section("corpus", {"bundled": {"seed": 7}})
    assert (
        corpus["bundled"]["seed"] == 7
        and corpus["bundled"]["sources"] == bcfg.defaults()["corpus"]["bundled"]["sources"]
    )
    assert corpus["hf"]["carve"]["shuffle"] is True
    with pytest.raises(ConfigError, match="seed"):
        bcfg.section("corpus", {"bundled": {"seed": "seven"}})
    with pytest.raises(ConfigError, match="unknown config section"):
        bcfg.section("corpra")


def test_validation_fills_defaults_without_changing_the_schema():
    """Nested defaults (a grid block's variant) fill copies of the schema's default objects, not the objects."""
    bcfg.validate({})
    grid = schema._validator().schema["properties"]["train"]["properties"]["grid"]["default"]
    assert grid == _schema()["properties"]["train"]["properties"]["grid"]["default"]
    assert "variant" not in grid[0]
