"""The configuration reference (docs/config-reference.md), written from the schema so that it cannot drift from it.

``python -m bows.schema_doc`` prints it; ``make docs`` writes it; a test checks that the committed page is what the
schema gives today.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"

HEADER = """# Configuration reference

Every key of `config.yaml`, its type, its default and what it means, section by section. This page is written from
`workflow/schemas/config.schema.yaml` by `make docs` (a test fails when the two differ); how files merge, how
values are checked and what reruns when a key changes is in [configuration.md](configuration.md).
"""


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "enum" in prop:
        return " | ".join(f"`{v}`" for v in prop["enum"])
    t = prop.get("type", "")
    kinds = [t] if isinstance(t, str) else list(t)
    if "array" in kinds and isinstance(prop.get("items"), dict):
        inner = _type(prop["items"])
        kinds = [f"array of {inner}" if k == "array" else k for k in kinds]
    return " or ".join(k for k in kinds if k) or "any"


def _limits(prop: dict[str, Any]) -> str:
    parts = []
    for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if key in prop:
            parts.append(f"{sign} {prop[key]}")
    if "minItems" in prop:
        parts.append(f"at least {prop['minItems']} item{'s' if prop['minItems'] != 1 else ''}")
    if prop.get("uniqueItems"):
        parts.append("distinct items")
    if "pattern" in prop:
        parts.append(f"matches `{prop['pattern']}`")
    return ", ".join(parts)


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop:
        return "required" if prop.get("type") != "object" else ""
    value = prop["default"]
    if isinstance(value, dict) and not value:
        return ""
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _rows(props: dict[str, Any], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    """(key, type, default, description) of every leaf under ``props``, nested objects flattened to dotted keys."""
    for name, prop in props.items():
        key = f"{prefix}{name}"
        nested = prop.get("properties")
        if nested and prop.get("type") == "object":
            yield from _rows(nested, f"{key}.")
            continue
        desc = prop.get("description", "")
        limits = _limits(prop)
        yield key, _type(prop), _default(prop), f"{desc} ({limits})" if limits and desc else desc or limits


def _section(title: str, prop: dict[str, Any], prefix: str) -> list[str]:
    """One heading, the object's description and the table of its keys."""
    out = [f"\n## {title}\n"]
    if prop.get("description"):
        out.append(_cell(prop["description"]))
    out.append("\n| key | type | default | meaning |\n|---|---|---|---|")
    for key, typ, default, desc in _rows(prop.get("properties", {}), prefix):
        out.append(f"| `{key}` | {_cell(typ)} | {_cell(default)} | {_cell(desc)} |")
    return out


def reference(schema: dict[str, Any]) -> str:
    """The whole Markdown page of a schema: each section, then each shared definition (``$defs``)."""
    out = [HEADER]
    for section, prop in schema["properties"].items():
        out += _section(f"`{section}`", prop, f"{section}.")
    for name, prop in schema.get("$defs", {}).items():
        out += _section(f"`{name}` (used above)", prop, "")
    return "\n".join(out) + "\n"


def main() -> None:
    sys.stdout.write(reference(yaml.safe_load(SCHEMA.read_text())))


if __name__ == "__main__":
    main()
