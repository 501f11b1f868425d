"""Config defaults live in the schema only: the library reads the validated config and never repeats a default.

Three guards: a static scan of ``workflow/bows`` for ``.get("<key>", <literal>)`` and ``.get("<key>") or <literal>``
on keys the schema gives a default, the same scan over the Jinja expressions of the report's captions
(``workflow/report/*.rst``), and a check that no settings dataclass gives a config key's field a Python default. All
are shown failing on planted examples.
"""

from __future__ import annotations

import ast
import re
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
CAPTIONS = ROOT / "workflow" / "report"

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


#: a Jinja expression or statement; the statement keyword (and a ``set``'s target) is dropped before the scan
JINJA = re.compile(r"{{(?P<expression>.*?)}}|{%-?\s*(?P<statement>.*?)\s*-?%}", re.S)
STATEMENT = re.compile(r"^(?:set\s+[\w, ]+=|if|elif|for\s+[\w, ]+\s+in)\s*")
#: a ``.get("<key>", <default>)`` call, for the Jinja that is not Python (filters, tests)
GET_CALL = re.compile(r"""\.get\(\s*(["'])(?P<key>\w+)\1\s*,\s*(?P<default>[^()]*?)\s*\)""")


def caption_default_copies(text: str, keys: frozenset[str] = DEFAULTED) -> list[tuple[int, str]]:
    """(line, key) of every schema default that a caption's Jinja repeats: ``.get("<key>", <literal>)`` or
    ``.get("<key>") or <literal>`` in an expression or statement (:func:`default_copies` on each, a pattern where
    the Jinja is not Python)."""
    found = []
    for match in JINJA.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        code = (match["expression"] or STATEMENT.sub("", match["statement"] or "", count=1)).strip()
        try:
            found += [(line, key) for _, key in default_copies(code, keys)]
        except SyntaxError:
            found += [
                (line, get["key"])
                for get in GET_CALL.finditer(code)
                if get["key"] in keys and _is_literal(ast.parse(get["default"], mode="eval").body)
            ]
    return sorted(found)


def test_caption_scan_finds_planted_default_copies():
    planted = (
        "**Mechanism** of model\n"
        '{% set m = snakemake.config["analysis"]["models"]["mechanism"] %}{{ m.get("variant", "relu") }} L{{ m.L }}\n'
        'wd {{ m["weight_decay"] }}, seed {{ m.get("seed") or 1 }}{% if m.get("dpi", 150) > 100 %}x{% endif %}\n'
        '{{ "%.2f"|format(m.get("seed", 1)) }} {{ m.get("seed", snakemake.config["seed"]) }} {{ m.get("latent") }}\n'
        '{{ m.get("dpi", 150) if m is defined else 0 }}\n'  # Jinja, not Python: found by the pattern
    )
    assert caption_default_copies(planted) == [(2, "variant"), (3, "dpi"), (3, "seed"), (4, "seed"), (5, "dpi")]


def test_captions_repeat_no_schema_default():
    found = []
    for path in sorted(CAPTIONS.glob("*.rst")):
        found += [f"{path.name}:{line}: .get({key!r}, …)" for line, key in caption_default_copies(path.read_text())]
    assert not found, "captions repeat schema defaults (the validated config has every key):\n" + "\n".join(found)


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
