"""The documentation: a README read in ten minutes, and links that lead somewhere.

* README.md is at most 16 KiB.
* Every relative link in README.md, docs/*.md and bench/README.md names an existing file, and an anchor names a
  heading of the target (GitHub's heading slugs).
* The README's first commands are `make run` and `make test`.

The checks are small functions, each shown failing on a text where it must fail.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from conftest import ROOT

README = ROOT / "README.md"
README_MAX_BYTES = 16 * 1024
DOC_FILES = [README, ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
COMMAND_WORDS = (
    "make",
    "snakemake",
    "python",
    "python3",
    "pip",
    "pytest",
    "conda",
    "sbatch",
    "bash",
    "printf",
    ".venv/bin/",
    "BOWS_",
    "CONDA_",
    "CUDA_",
    "time ",
)


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lowercase, punctuation removed, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    text = text.strip().lower()
    kept = [c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN"]
    return "".join(kept).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a markdown text; repeated headings get -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    for line in prose_lines(text):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(text: str) -> list[str]:
    """Link targets in the prose (not in code blocks or inline code)."""
    out = []
    for line in prose_lines(text):
        out += LINK.findall(INLINE_CODE.sub("", line))
    return out


def broken_links(path: Path, text: str | None = None) -> list[str]:
    """Relative links of ``path`` whose file, or whose heading anchor, does not exist."""
    text = path.read_text(encoding="utf-8") if text is None else text
    bad = []
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            bad.append(f"{target}: no such file")
            continue
        if anchor:
            if dest.suffix != ".md" or dest.is_dir():
                bad.append(f"{target}: anchor into a file without headings")
                continue
            dest_text = text if dest == path else dest.read_text(encoding="utf-8")
            if anchor not in anchors(dest_text):
                bad.append(f"{target}: no heading with this anchor")
    return bad


def commands(text: str) -> list[str]:
    """Shell commands in the order the text shows them: lines of code blocks and inline code spans."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        spans = [line.strip()] if fenced else [s.strip("`") for s in INLINE_CODE.findall(line)]
        for span in spans:
            span = span.split("#", 1)[0].strip()
            if span.startswith(COMMAND_WORDS):
                out.append(span)
    return out


def first_commands_are_make(text: str) -> bool:
    """The first two commands are `make run` and `make test` (in either order)."""
    first = [c.split()[:2] for c in commands(text)[:2]]
    return sorted(" ".join(c) for c in first) == ["make run", "make test"]


# ------------------------------------------------------------------------------------------------ the checks, failing


def test_slug_matches_github():
    assert slug("Corpus sources (`corpus.source`)") == "corpus-sources-corpussource"
    assert slug("Vocabulary (paper §3.3)") == "vocabulary-paper-33"
    assert slug("Data: corpus → vocabulary → documents → windows") == "data-corpus--vocabulary--documents--windows"
    assert slug("What the default scale can and cannot show") == "what-the-default-scale-can-and-cannot-show"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}


def test_broken_links_are_found(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n## Known section\n", encoding="utf-8")
    readme = tmp_path / "README.md"
    text = (
        "[ok](docs/page.md) [ok](docs/page.md#known-section) [web](https://example.org/x#y) [self](#top)\n"
        "[gone](docs/missing.md) [bad anchor](docs/page.md#unknown) `[in code](nowhere.md)`\n"
        "```\n[in a block](nowhere.md)\n```\n# Top\n"
    )
    readme.write_text(text, encoding="utf-8")
    assert broken_links(readme) == [
        "docs/missing.md: no such file",
        "docs/page.md#unknown: no heading with this anchor",
    ]


def test_command_order_is_checked():
    good = "# x\n```bash\nmake run   # all\nmake test\n```\nthen `snakemake -n`\n"
    late = "# x\nRun `snakemake --cores all` first.\n```bash\nmake run\nmake test\n```\n"
    assert first_commands_are_make(good)
    assert commands(good) == ["make run", "make test", "snakemake -n"]
    assert not first_commands_are_make(late)
    assert not first_commands_are_make("```bash\nmake run\n```\n")


# ------------------------------------------------------------------------------------------------ the documentation


def test_readme_size():
    size = README.stat().st_size
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail to docs/ (limit {README_MAX_BYTES})"


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    assert path.exists()
    assert broken_links(path) == []


def test_readme_starts_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text
    assert first_commands_are_make(text), f"first commands: {commands(text)[:3]}"


def test_docs_pages_have_a_title_and_an_introduction():
    for path in DOC_FILES[1:]:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert lines[0].startswith("# "), f"{path.name}: first line is not a title"
        assert not lines[1].startswith(("#", "|", "```", "-")), f"{path.name}: no introduction under the title"


def test_config_reference_is_the_schemas():
    """docs/config-reference.md is what ``make docs`` writes from the schema today."""
    import yaml
    from bows.schema_doc import SCHEMA, reference

    schema = yaml.safe_load(SCHEMA.read_text())
    page = reference(schema)
    assert (ROOT / "docs" / "config-reference.md").read_text() == page, "stale: run `make docs`"
    undescribed = [line.split("|")[1].strip() for line in page.splitlines() if line.endswith("|  |")]
    assert not undescribed, f"schema keys without a description: {undescribed}"


def test_config_reference_lists_every_key_with_its_default():
    """A planted schema: nested keys become dotted rows, defaults and limits show, a $defs block gets its own table;
    a key added to the schema makes the committed page stale."""
    from bows.schema_doc import reference

    schema = {
        "properties": {
            "train": {
                "type": "object",
                "description": "Training.",
                "properties": {
                    "lr": {"type": "number", "default": 0.0005, "exclusiveMinimum": 0, "description": "Peak rate."},
                    "opt": {
                        "type": "object",
                        "properties": {
                            "betas": {"type": "array", "items": {"type": "number"}, "default": [0.9, 0.999]}
                        },
                    },
                    "device": {"enum": ["auto", "cpu"], "default": "auto"},
                },
            }
        },
        "$defs": {"ref": {"type": "object", "properties": {"latent": {"type": "integer", "minimum": 1}}}},
    }
    page = reference(schema)
    assert "| `train.lr` | number | `0.0005` | Peak rate. (> 0) |" in page
    assert "| `train.opt.betas` | array of number | `[0.9, 0.999]` |  |" in page
    assert '| `train.device` | `auto` \\| `cpu` | `"auto"` |  |' in page
    assert "| `latent` | integer | required | ≥ 1 |" in page
    schema["properties"]["train"]["properties"]["epochs"] = {"type": "integer", "default": 10}
    assert reference(schema) != page
