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


def _closure(script: str) -> set[str]:
    """Package modules a rule runs: of its adapter script (``x.py``) or of its stage module (``bows.stages.x``)."""
    path = SCRIPTS / script if script.endswith(".py") else codehash.module_file(script)
    closure = codehash.import_closure(path)[1:] + ([] if script.endswith(".py") else [path])
    return {p.relative_to(codehash.PACKAGE_DIR).as_posix() for p in closure}


def test_training_does_not_run_metric_or_plotting_code() -> None:
    train = _closure("bows.stages.train")
    assert {"stages/train.py", "train.py", "model.py", "fast_step.py", "kernels.py"} <= train
    bad = [m for m in train if m.startswith(("metrics/", "figures/", "synthetic/", "sae/")) or m == "config.py"]
    assert not bad, train
    assert [m for m in train if m.startswith("stages/")] == ["stages/train.py"]
    metrics = _closure("bows.stages.model")
    assert "metrics/geometry.py" in metrics and "train.py" not in metrics
    assert not [m for m in metrics if m.startswith("figures/")], metrics


def test_every_rule_with_a_script_carries_its_code_hash() -> None:
    """Each rule's params hold code=code_of(<its own script>), so every job reruns when the code it runs changes."""
    rules = 0
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule |checkpoint )", path.read_text())[1:]:
            name = block.split()[1].rstrip(":")
            script = re.search(r'script:\s+"\.\./scripts/(\w+\.py)"', block)
            stage = re.search(r"script:\s+STAGE_SCRIPT", block)
            if script is None and stage is None:
                continue
            rules += 1
            if stage is not None:  # stage_params carries the stage's code hash
                assert re.search(r"\*\*stage_params\(", block), f"{path.name}: rule {name} lacks stage_params"
                continue
            assert f'code=code_of("{script.group(1)}")' in block, f"{path.name}: rule {name} lacks its code hash"
    assert rules >= 30


UPSTREAM_SCRIPTS = (
    "prepare_corpus.py",
    "build_vocab.py",
    "encode_docs.py",
    "index_windows.py",
    "synthetic_data.py",
    "synthetic_train.py",
)
METRIC_SCRIPTS = (
    tuple(sorted(p.name for p in SCRIPTS.glob("metrics_*.py")))
    + ("bows.stages.model",)
    + (
        "synthetic_metrics.py",
        "synthetic_summary.py",
    )
)


def test_data_and_training_jobs_hash_no_analysis_config_or_plotting_code() -> None:
    """Corpus, vocabulary, windows and training jobs rerun only for their own code: not for a metric, a plot, the
    config loader and its checks (they run when the workflow is parsed), or the SAE settings."""
    for script in UPSTREAM_SCRIPTS:
        closure = _closure(script)
        bad = [
            m
            for m in closure
            if m.startswith(("metrics/", "stages/", "figures/", "sae/"))
            or m in ("config.py", "synthetic/pipeline.py", "synthetic/drawing.py")
        ]
        assert not bad, f"{script} hashes {bad}"


def test_each_metric_job_hashes_its_own_entry_module_and_no_plotting() -> None:
    entries = {m for m in (ROOT / "workflow" / "bows" / "stages").glob("*.py")} - {
        ROOT / "workflow" / "bows" / "stages" / n for n in ("__init__.py", "common.py", "train.py")
    }
    assert len(entries) == len(list(SCRIPTS.glob("metrics_*.py"))) + 1  # one entry module per analysis rule
    for script in METRIC_SCRIPTS:
        closure = _closure(script)
        assert not [m for m in closure if m.startswith(("figures/", "sae/")) or m == "train.py"], (script, closure)
        if script.startswith(("metrics_", "bows.stages.")):
            own = f"stages/{script.removeprefix('metrics_').removeprefix('bows.stages.').removesuffix('.py')}.py"
            assert [
                m for m in closure if m.startswith("stages/") and m not in ("stages/__init__.py", "stages/common.py")
            ] == [own]


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
    closures = {s: _closure(f"sae_{s}.py") for s in ("activations", "train", "scores", "summary", "figures")}
    assert "sae/activations.py" in closures["activations"] and "sae/training.py" in closures["train"]
    for step in ("activations", "train"):
        assert not closures[step] & {"sae/scores.py", "sae/claims.py"}, closures[step]
    assert "sae/training.py" not in closures["activations"] and "sae/activations.py" not in closures["train"]
    assert "sae/scores.py" in closures["scores"] and "sae/claims.py" not in closures["scores"]
    for step, closure in closures.items():
        plotting = [m for m in closure if m.startswith("figures/")]
        assert bool(plotting) == (step == "figures"), (step, plotting)
    assert "figures/sae.py" in closures["figures"]
