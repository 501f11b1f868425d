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
    dressed = (
        '"""Module doc."""\n# a comment\n\n\ndef f(x,\n      y):  # trailing\n'
        '    """Function doc."""\n    return (x +\n            y)\n'
    )
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
    pkg = _package(
        tmp_path,
        {
            "a.py": "from . import b\nfrom .sub.c import g\n",
            "b.py": "import numpy\nfrom .errors import E\n",
            "errors.py": "class E(Exception):\n    pass\n",
            "sub/__init__.py": "",
            "sub/c.py": "from ..b import x\ng = 1\n",
            "unused.py": "import bows.a\n",
            "other.py": "",
        },
    )
    script = tmp_path / "script.py"
    script.write_text("import sys\nfrom bows.a import run\nimport bows.other\n")
    closure = codehash.import_closure(script, pkg)
    assert closure[0] == script.resolve()
    assert {p.relative_to(pkg).as_posix() for p in closure[1:]} == {
        "__init__.py",
        "a.py",
        "b.py",
        "errors.py",
        "sub/__init__.py",
        "sub/c.py",
        "other.py",
    }


def test_hash_follows_imported_modules_and_named_data_only(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path,
        {
            "a.py": 'from . import b\nWORDS = "data/words.json"\n',
            "b.py": "X = 1\n",
            "unused.py": "Y = 1\n",
            "data/words.json": '["a"]',
            "data/other.json": '["b"]',
        },
    )
    script = tmp_path / "script.py"
    script.write_text("from bows.a import WORDS\n")
    before = codehash.code_hash(script, package_dir=pkg)
    assert len(before) == 16

    (pkg / "unused.py").write_text("Y = 2\n")
    (pkg / "data" / "other.json").write_text('["c"]')
    assert codehash.code_hash(script, package_dir=pkg) == before, "a module or data file the script never uses counted"

    (pkg / "b.py").write_text("X = 2\n")
    after_b = codehash.code_hash(script, package_dir=pkg)
    assert after_b != before
    (pkg / "data" / "words.json").write_text('["a", "z"]')
    assert codehash.code_hash(script, package_dir=pkg) != after_b


RULES = ROOT / "workflow" / "rules"
STAGES = "stages/"
# a stage module as the rule files import it: ``import bows.stages.x as alias`` or ``from bows.y import x as alias``
STAGE_IMPORT = re.compile(r"(?m)^(?:import (bows(?:\.\w+)+) as (\w+)|from (bows(?:\.\w+)*) import (\w+) as (\w+))$")


def rule_blocks(text: str) -> dict[str, str]:
    """Rule name → the text of its block, of one rule file's text."""
    blocks = re.split(r"(?m)^(?=rule |checkpoint )", text)[1:]
    return {block.split()[1].rstrip(":"): block for block in blocks}


def stage_aliases(text: str) -> dict[str, str]:
    """Alias → dotted module name of every bows module a rule file's text imports under an alias."""
    aliases = {}
    for m in STAGE_IMPORT.finditer(text):
        if m.group(1):
            aliases[m.group(2)] = m.group(1)
        else:
            aliases[m.group(5)] = f"{m.group(3)}.{m.group(4)}"
    return aliases


def rule_entry(block: str, aliases: dict[str, str]) -> Path | None:
    """The file a rule runs: its stage module (``stage_params(alias.STAGE)``), its own script, or None."""
    stage = re.search(r"stage_params\(\s*(\w+)\.STAGE", block)
    if stage is not None and re.search(r"script:\s+STAGE_SCRIPT", block):
        return codehash.module_file(aliases[stage.group(1)])
    script = re.search(r'script:\s+"\.\./scripts/(\w+\.py)"', block)
    return SCRIPTS / script.group(1) if script else None


def _all_rules() -> dict[str, tuple[str, Path | None]]:
    """Rule name → (its block, the file it runs) over every rule file (aliases may come from any included file)."""
    texts = {path.name: path.read_text() for path in sorted(RULES.glob("*.smk"))}
    aliases = {a: m for text in texts.values() for a, m in stage_aliases(text).items()}
    return {
        name: (block, rule_entry(block, aliases))
        for text in texts.values()
        for name, block in rule_blocks(text).items()
    }


ALL_RULES = _all_rules()


def closure_of(entry: Path) -> set[str]:
    """Package modules a rule runs, from its entry file (a script outside the package, or a stage module)."""
    closure = codehash.import_closure(entry)
    inside = [p for p in closure if p.is_relative_to(codehash.PACKAGE_DIR)]
    return {p.relative_to(codehash.PACKAGE_DIR).as_posix() for p in inside}


def rule_closure(rule: str) -> set[str]:
    """Package modules the named rule runs."""
    entry = ALL_RULES[rule][1]
    assert entry is not None, f"rule {rule} runs no script"
    return closure_of(entry)


def own_module(rule: str) -> str | None:
    """The stage module of a stage rule, as a package path (``stages/months.py``), else None."""
    entry = ALL_RULES[rule][1]
    if entry is None or not entry.is_relative_to(codehash.PACKAGE_DIR):
        return None
    return entry.relative_to(codehash.PACKAGE_DIR).as_posix()


def test_the_rule_parser_reads_stage_and_script_rules() -> None:
    text = (
        "import bows.stages.months as bstage_months\nfrom bows.sae.steps import train as sae_train\n\n\n"
        "rule metrics_months:\n    params:\n        **stage_params(bstage_months.STAGE),\n    script:\n"
        '        STAGE_SCRIPT\n\n\nrule old:\n    script:\n        "../scripts/train_model.py"\n\n\n'
        "rule target:\n    input:\n        []\n"
    )
    aliases = stage_aliases(text)
    assert aliases == {"bstage_months": "bows.stages.months", "sae_train": "bows.sae.steps.train"}
    blocks = rule_blocks(text)
    assert rule_entry(blocks["metrics_months"], aliases) == codehash.PACKAGE_DIR / "stages" / "months.py"
    assert rule_entry(blocks["old"], aliases) == SCRIPTS / "train_model.py"
    assert rule_entry(blocks["target"], aliases) is None


def test_training_does_not_run_metric_or_plotting_code() -> None:
    train = rule_closure("train_model")
    assert {"stages/train.py", "train.py", "model.py", "fast_step.py", "kernels.py"} <= train
    bad = [m for m in train if m.startswith(("metrics/", "figures/", "synthetic/", "sae/")) or m == "config.py"]
    assert not bad, train
    assert [m for m in train if m.startswith("stages/")] == ["stages/train.py"]
    metrics = rule_closure("metrics_model")
    assert "metrics/geometry.py" in metrics and "train.py" not in metrics
    assert not [m for m in metrics if m.startswith("figures/")], metrics


def test_every_rule_with_a_script_carries_its_code_hash() -> None:
    """Each rule's params hold code=code_of(<its own script>) or stage_params (the stage's hash), so every job
    reruns when the code it runs changes."""
    rules = 0
    for name, (block, entry) in ALL_RULES.items():
        if entry is None:
            continue
        rules += 1
        if re.search(r"script:\s+STAGE_SCRIPT", block):  # stage_params carries the stage's code hash
            assert re.search(r"\*\*stage_params\(\s*\w+\.STAGE", block), f"rule {name} lacks stage_params"
            continue
        assert f'code=code_of("{entry.name}")' in block, f"rule {name} lacks its code hash"
    assert rules >= 30


def output_from_stage(block: str) -> bool | None:
    """Whether a stage rule's ``output:`` comes from the STAGE its params name (tables, files or figures); None
    for a rule that runs no stage."""
    stage = re.search(r"stage_params\(\s*(\w+)\.STAGE", block)
    if stage is None:
        return None
    alias = stage.group(1)
    output = block.split("    output:\n", 1)[-1].split("\n    log:", 1)[0]
    return bool(re.search(rf"(?:\*\*{alias}\.STAGE\.\w+_outputs\(|stage_figures\(\s*{alias}\.STAGE)", output))


def test_a_hand_written_stage_output_is_found() -> None:
    head = "rule r:\n    output:\n        "
    tail = "\n    log:\n        'x.log',\n    params:\n        **stage_params(bstage_a.STAGE),\n"
    assert output_from_stage(head + '**bstage_a.STAGE.table_outputs(f"{METRICS}/a"),' + tail)
    figures = "**stage_figures(\n            bstage_a.STAGE,\n            FIGS,\n        ),"
    assert output_from_stage(head + figures + tail)
    assert not output_from_stage(head + 'table=f"{METRICS}/a/table.parquet",' + tail)
    assert not output_from_stage(head + '**bstage_b.STAGE.table_outputs(f"{METRICS}/a"),' + tail)
    assert output_from_stage(head + "x='a'," + tail.replace("stage_params(bstage_a.STAGE)", "code='1'")) is None


#: stage rules that still write their outputs by hand (to move onto ``STAGE.file_outputs``; the test below fails
#: when one of them no longer needs to be listed)
HAND_WRITTEN_OUTPUTS = {"export_model", "references_data", "references_criteria"}


def test_stage_rules_build_their_outputs_from_the_stage_they_run() -> None:
    """A stage rule's outputs come from the STAGE of the module it runs, so the names a stage writes are stated
    once, in the library."""
    checked = {name: output_from_stage(block) for name, (block, _) in ALL_RULES.items()}
    stage_rules = {name: ok for name, ok in checked.items() if ok is not None}
    by_hand = {name for name, ok in stage_rules.items() if not ok}
    assert by_hand <= HAND_WRITTEN_OUTPUTS, (
        f"outputs not built from their STAGE: {sorted(by_hand - HAND_WRITTEN_OUTPUTS)}"
    )
    assert by_hand == HAND_WRITTEN_OUTPUTS, (
        f"now built from their STAGE, unlist: {sorted(HAND_WRITTEN_OUTPUTS - by_hand)}"
    )
    assert len(stage_rules) >= 12


# upstream of the analysis: a corpus, vocabulary, windows or training job reruns only for its own code
UPSTREAM_RULES = (
    "prepare_corpus",
    "build_vocab",
    "encode_docs",
    "index_windows",
    "train_model",
    "pca_model",
    "synthetic_data",
    "synthetic_train",
)
UPSTREAM_FORBIDDEN = ("metrics/", "figures/", "sae/")
UPSTREAM_FORBIDDEN_FILES = ("config.py", "synthetic/pipeline.py", "synthetic/drawing.py")


def foreign_modules(closure: set[str], own: str | None, forbidden: tuple[str, ...], files: tuple[str, ...] = ()):
    """Modules of ``closure`` a job should not hash: under a ``forbidden`` folder, one of ``files``, or another
    stage's module (``stages/`` beyond the package's ``__init__`` and the job's ``own`` module)."""
    return sorted(
        m
        for m in closure
        if m.startswith(forbidden)
        or m in files
        or (m.startswith(STAGES) and m not in (f"{STAGES}__init__.py", own, f"{STAGES}common.py"))
    )


def test_foreign_modules_are_found_in_a_planted_closure() -> None:
    planted = {"corpus.py", "io.py", "stages/__init__.py", "stages/corpus.py", "metrics/words.py", "config.py"}
    assert foreign_modules(planted, "stages/corpus.py", UPSTREAM_FORBIDDEN, UPSTREAM_FORBIDDEN_FILES) == [
        "config.py",
        "metrics/words.py",
    ]
    assert foreign_modules(planted | {"stages/months.py"}, "stages/corpus.py", ()) == ["stages/months.py"]
    assert foreign_modules(planted - {"metrics/words.py", "config.py"}, "stages/corpus.py", UPSTREAM_FORBIDDEN) == []


def test_data_and_training_jobs_hash_no_analysis_config_or_plotting_code() -> None:
    """Corpus, vocabulary, windows and training jobs rerun only for their own code: not for a metric, a plot, the
    config loader and its checks (they run when the workflow is parsed), the SAE settings or another stage."""
    for rule in UPSTREAM_RULES:
        closure = rule_closure(rule)
        bad = foreign_modules(closure, own_module(rule), UPSTREAM_FORBIDDEN, UPSTREAM_FORBIDDEN_FILES)
        assert not bad, f"{rule} hashes {bad}"
        assert "stages/common.py" not in closure, f"{rule} hashes the analysis stages' shared helpers"


METRIC_RULES = tuple(sorted(name for name in ALL_RULES if name.startswith("metrics_"))) + (
    "synthetic_metrics",
    "synthetic_summary",
)


def test_each_metric_job_hashes_its_own_entry_module_and_no_plotting() -> None:
    for rule in METRIC_RULES:
        closure = rule_closure(rule)
        own = own_module(rule) or next(
            (m for m in closure if m.startswith(STAGES) and m not in (f"{STAGES}__init__.py", f"{STAGES}common.py")),
            None,
        )
        bad = foreign_modules(closure, own, ("figures/", "sae/"), ("train.py",))
        assert not bad, (rule, bad)
    stage_modules = {p.name for p in (codehash.PACKAGE_DIR / "stages").glob("*.py")} - {"__init__.py", "common.py"}
    entries = {(own_module(r) or "").removeprefix(STAGES) for r in ALL_RULES}
    scripts = {m.removeprefix(STAGES) for r in METRIC_RULES for m in rule_closure(r) if m.startswith(STAGES)}
    assert stage_modules <= entries | scripts, f"stage modules no rule runs: {stage_modules - entries - scripts}"


#: rules whose wall time and peak memory are recorded (``benchmark:``): training, metric and SAE rules, and the
#: synthetic branch's data, training and metric jobs
MEASURED = re.compile(r"^(train_model|pca_model|metrics_\w+|sae_\w+|synthetic_(data|train|metrics|summary))$")


def rules_without_benchmark(text: str) -> list[str]:
    """Names of the measured rules of a rule file's text that have no ``benchmark:`` directive."""
    missing = []
    for block in re.split(r"(?m)^(?=rule |checkpoint )", text)[1:]:
        name = block.split()[1].rstrip(":")
        if MEASURED.match(name) and not re.search(r"(?m)^    benchmark:\n\s+\S", block):
            missing.append(name)
    return missing


def test_a_rule_without_benchmark_is_found() -> None:
    text = (
        'rule sae_train:\n    log:\n        "a.log",\n    benchmark:\n        "a.tsv"\n'
        '    script:\n        "x.py"\n\n\n'
        'rule metrics_new:\n    log:\n        "b.log",\n    script:\n        "y.py"\n\n\n'
        'rule fig_new:\n    log:\n        "c.log",\n'
    )
    assert rules_without_benchmark(text) == ["metrics_new"]


def test_every_training_metric_and_sae_rule_has_a_benchmark() -> None:
    names = []
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        text = path.read_text()
        names += [n for n in re.findall(r"(?m)^rule (\w+):", text) if MEASURED.match(n)]
        missing = rules_without_benchmark(text)
        assert not missing, f"{path.name}: rules without a benchmark: directive: {missing}"
    assert {"train_model", "pca_model", "metrics_model", "sae_train", "sae_scores"} <= set(names), names


def test_sae_jobs_hash_only_the_code_they_run() -> None:
    """Retraining an SAE never follows a change of the scores, the claims or the plots; only the figure job hashes
    plotting code."""
    closures = {s: rule_closure(f"sae_{s}") for s in ("activations", "train", "scores", "summary", "figures")}
    assert "sae/activations.py" in closures["activations"] and "sae/training.py" in closures["train"]
    for step in ("activations", "train"):
        assert not closures[step] & {"sae/scores.py", "sae/claims.py"}, closures[step]
    assert "sae/training.py" not in closures["activations"] and "sae/activations.py" not in closures["train"]
    assert "sae/scores.py" in closures["scores"] and "sae/claims.py" not in closures["scores"]
    for step, closure in closures.items():
        plotting = [m for m in closure if m.startswith("figures/")]
        assert bool(plotting) == (step == "figures"), (step, plotting)
    assert "figures/sae.py" in closures["figures"]
