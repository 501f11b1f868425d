"""Reliability of the workflow, through Snakemake: kills, reruns, bad input, write errors, unsafe checkpoints.

One smoke run of the whole DAG is shared (module fixture); tests that change files work on copies of its work dir
(``cp -a``: Snakemake's metadata and the files' times come along, so only what a test changes reruns).

* SIGKILL during training, ``snakemake --unlock``, rerun: the job resumes from its checkpoint and the final model is
  bit-identical to an uninterrupted run.
* A second run has nothing to do; two runs with one config give identical model files.
* Bad input -- config (unknown key, wrong type, out of range, L > V, empty grid), corpus (missing file, empty,
  invalid UTF-8, missing text column, fewer documents than G), analysis (unknown words in a strict group),
  checkpoint (truncated, corrupted) -- gives one clear error (problem + ``fix:``, no traceback) and no partial output.
* Write errors (read-only results folder, full disk) surface with the system's reason and leave no partial output.
* Model files and checkpoints are safetensors (tensors and JSON, no pickle); legacy torch files load with
  ``torch.load(weights_only=True)``, and a crafted pickle is refused without running its code.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import ROOT

SNAKEFILE = ROOT / "Snakefile"
CONFIGS = [ROOT / "config.yaml", ROOT / "presets" / "smoke.yaml"]
_BIN = Path(sys.executable).parent
SMK = str(_BIN / "snakemake") if (_BIN / "snakemake").exists() else "snakemake"

CORPUS = "smoke"  # corpus.name of presets/smoke.yaml
MODELS = f"results/{CORPUS}/models/V400_G5_S1"
# the model the smoke analyses read for the months ring (analysis.models.months)
MONTHS_MODEL = f"{MODELS}/relu/L16_wd4.0_seed1/model.safetensors"
KILL_MODEL = f"{MODELS}/relu/L16_wd1.0_seed1/model.safetensors"
CHECKPOINT = "state.safetensors"  # bows.checkpoints.CHECKPOINT


def snakemake(
    targets: list[str],
    workdir: Path,
    *extra: str,
    overrides: dict | None = None,
    cores: int = 2,
    timeout: float = 600,
    popen: bool = False,
    env: dict | None = None,
):
    """``snakemake TARGETS -s Snakefile -d WORKDIR --cores N --configfile config.yaml smoke.yaml [override]``."""
    configs = list(CONFIGS)
    if overrides is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        over = workdir.parent / f"{workdir.name}.override.yaml"
        over.write_text(yaml.safe_dump(overrides))
        configs.append(over)
    cmd = [
        SMK,
        *targets,
        "-s",
        str(SNAKEFILE),
        "-d",
        str(workdir),
        "--cores",
        str(cores),
        *extra,
        "--configfile",
        *map(str, configs),
    ]
    if popen:
        return subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=str(ROOT),
            start_new_session=True,
            env=env,
        )
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT), env=env)


def output(res: subprocess.CompletedProcess) -> str:
    return (res.stdout or "") + (res.stderr or "")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def copy_wd(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    shutil.rmtree(dst / ".snakemake" / "locks", ignore_errors=True)
    return dst


def leftovers(results: Path) -> list[str]:
    """Temporary files of atomic writes that were not cleaned up."""
    if not results.exists():
        return []
    return sorted(str(p.relative_to(results)) for p in results.rglob("*") if re.search(r"\.tmp", p.name))


@pytest.fixture(scope="module")
def smoke(smoke_run) -> Path:
    """The whole smoke DAG, run once per session (conftest.smoke_run) and shared by every workflow test."""
    return smoke_run


# --------------------------------------------------------------------------------------------- reruns


@pytest.mark.workflow
def test_second_run_has_nothing_to_do(smoke):
    res = snakemake(["all"], smoke, "-n")
    assert res.returncode == 0, output(res)[-3000:]
    assert "Nothing to be done" in output(res), output(res)[-3000:]


@pytest.mark.workflow
def test_two_runs_one_config_identical_models(smoke, tmp_path):
    """A fresh work dir, same config: the corpus chain and two models again, byte for byte."""
    targets = [KILL_MODEL, MONTHS_MODEL]
    res = snakemake(targets, tmp_path / "again")
    assert res.returncode == 0, output(res)[-4000:]
    for t in targets:
        assert sha256(tmp_path / "again" / t) == sha256(smoke / t), f"{t} differs between two runs of one config"
    for t in (f"results/{CORPUS}/V400/vocab.tsv", f"results/{CORPUS}/V400_G5_S1/train_windows.npy"):
        assert sha256(tmp_path / "again" / t) == sha256(smoke / t), f"{t} differs between two runs of one config"


# --------------------------------------------------------------------------------------------- SIGKILL + resume

LONG_TRAINING = {"train": {"epochs": 150, "checkpoint_every": 1}}


@pytest.mark.workflow
def test_sigkill_during_training_then_rerun_is_bit_identical(smoke, tmp_path):
    ref_wd = copy_wd(smoke, tmp_path / "ref")
    kill_wd = copy_wd(smoke, tmp_path / "kill")
    ckpt = kill_wd / KILL_MODEL.replace("/models/", "/checkpoints/").replace("/model.safetensors", "") / CHECKPOINT
    model = kill_wd / KILL_MODEL

    proc = snakemake([KILL_MODEL], kill_wd, overrides=LONG_TRAINING, cores=1, popen=True)
    killed_at = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if ckpt.exists():
                time.sleep(0.5)  # a few more epochs
                os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its job: the process group started above
                killed_at = time.monotonic()
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None and killed_at is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log = proc.communicate(timeout=60)[0]
    assert killed_at is not None, f"no checkpoint appeared at {ckpt} before the job ended:\n{log[-4000:]}"
    assert not model.exists(), "training finished before the kill; raise LONG_TRAINING epochs"
    assert ckpt.exists(), "the checkpoint did not survive the kill"
    # a kill in the middle of a checkpoint write may leave that write's temporary file, and only that one
    stale = leftovers(kill_wd / "results")
    assert all(Path(p).name.startswith(f".{CHECKPOINT}.") for p in stale), stale

    unlock = snakemake([KILL_MODEL], kill_wd, "--unlock", overrides=LONG_TRAINING)
    assert unlock.returncode == 0, output(unlock)[-3000:]
    resumed = snakemake([KILL_MODEL], kill_wd, overrides=LONG_TRAINING, cores=1)
    assert resumed.returncode == 0, output(resumed)[-5000:]
    run = yaml.safe_load((model.parent / "run.json").read_text())
    assert run.get("resumed_from_epoch"), "the rerun did not resume from the checkpoint (run.json)"
    assert not leftovers(kill_wd / "results"), leftovers(kill_wd / "results")  # the rerun cleaned up

    ref = snakemake([KILL_MODEL], ref_wd, overrides=LONG_TRAINING, cores=1)
    assert ref.returncode == 0, output(ref)[-5000:]
    ref_run = yaml.safe_load((ref_wd / KILL_MODEL).with_name("run.json").read_text())
    assert not ref_run.get("resumed_from_epoch")
    from bows.model import load_model

    (Wa, ba, meta_a), (Wb, bb, meta_b) = load_model(model), load_model(ref_wd / KILL_MODEL)
    for k, a, b in (("W", Wa, Wb), ("b", ba, bb)):
        assert a.tobytes() == b.tobytes(), f"{k} differs after kill + resume (max |Δ| {float(abs(a - b).max()):.3g})"
    assert meta_a == meta_b
    assert sha256(model) == sha256(ref_wd / KILL_MODEL), "same tensors but different model file bytes"
    assert not ckpt.exists(), "the checkpoint should be removed once the model file is written"


# --------------------------------------------------------------------------------------------- bad input


def assert_one_clear_error(res: subprocess.CompletedProcess, *needles: str) -> str:
    """Non-zero exit; a message with the problem and a ``fix:`` line naming it; no Python traceback."""
    text = output(res)
    assert res.returncode != 0, f"expected a failure:\n{text[-3000:]}"
    assert "fix:" in text, f"the error does not say how to fix it:\n{text[-3000:]}"
    assert "Traceback (most recent call last)" not in text, f"a traceback instead of a clear error:\n{text[-5000:]}"
    low = text.lower()
    for needle in needles:
        assert needle.lower() in low, f"the error does not mention {needle!r}:\n{text[-3000:]}"
    problems = {m.strip() for m in re.findall(r"bows: (.*)", text) if not m.startswith("warning:")}
    assert len(problems) <= 1, f"several different errors for one bad input: {problems}"
    return text


CONFIG_CASES = {
    "unknown_key": ({"train": {"epochz": 3}}, ["epochz"]),
    "wrong_type": ({"train": {"epochs": "ten"}}, ["epochs"]),
    "out_of_range": ({"vocab": {"fraction": 1.5}}, ["fraction"]),
    "latent_exceeds_vocab": ({"train": {"grid": [{"latent": [16, 500]}]}}, ["500", "vocab"]),
    "empty_grid": ({"train": {"grid": []}}, ["grid"]),
}


@pytest.mark.workflow
@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config_fails_before_any_work(case, tmp_path):
    over, needles = CONFIG_CASES[case]
    wd = tmp_path / "wd"
    res = snakemake(["all"], wd, overrides=over, timeout=120)
    assert_one_clear_error(res, *needles)
    assert not (wd / "results").exists(), "a bad config must stop the run before any output"


def _corpus_file(tmp_path: Path, case: str) -> tuple[dict, list[str]]:
    local: dict = {"format": "text"}
    if case == "missing_file":
        local["train"] = str(tmp_path / "no_such_corpus.txt")
        return local, ["no_such_corpus.txt"]
    if case == "empty":
        path = tmp_path / "empty.txt"
        path.write_text("")
        local["train"] = str(path)
        return local, ["empty"]
    if case == "invalid_utf8":
        path = tmp_path / "latin1.txt"
        path.write_bytes("Caf\u00e9 au lait, na\u00efve r\u00e9sum\u00e9\n".encode("latin-1") * 200)
        local["train"] = str(path)
        return local, ["utf-8"]
    if case == "missing_text_column":
        path = tmp_path / "docs.jsonl"
        path.write_text("".join(f'{{"body": "document {i} with enough words"}}\n' for i in range(200)))
        local.update(train=str(path), format="json")
        return local, ["text"]
    if case == "fewer_docs_than_G":
        path = tmp_path / "three.txt"
        path.write_text("one document with words\nanother document here\na third and last one\n")
        local["train"] = str(path)
        return local, ["group_size"]
    raise KeyError(case)


CORPUS_CASES = ["missing_file", "empty", "invalid_utf8", "missing_text_column", "fewer_docs_than_G"]


@pytest.mark.workflow
@pytest.mark.parametrize("case", CORPUS_CASES)
def test_bad_corpus_gives_one_clear_error(case, tmp_path):
    local, needles = _corpus_file(tmp_path, case)
    wd = tmp_path / "wd"
    res = snakemake(
        ["windows"], wd, overrides={"corpus": {"name": "bad", "source": "local", "local": local}}, cores=1, timeout=180
    )
    assert_one_clear_error(res, *needles)
    results = wd / "results"
    made = (
        sorted(
            str(p.relative_to(results))
            for p in results.rglob("*")
            if p.is_file() and "/logs/" not in f"/{p.relative_to(results)}"
        )
        if results.exists()
        else []
    )
    assert not made, f"partial output after a bad corpus: {made}"
    assert not leftovers(results)


@pytest.mark.workflow
def test_unknown_words_in_strict_group(smoke, tmp_path):
    wd = copy_wd(smoke, tmp_path / "wd")
    groups = {"Made up": {"words": ["qzxqzx", "vvbnmq"], "strict": True}}
    # the SAE benchmark's groups (months, days) and the ablated Months are not among these word groups: left out
    res = snakemake(
        ["metrics"],
        wd,
        overrides={
            "analysis": {"word_groups": groups},
            "sae": {"enabled": False},
            "windows": {"exclude_cooccurrence": []},
        },
        cores=1,
        timeout=300,
    )
    text = assert_one_clear_error(res, "qzxqzx")
    assert "strict" in text.lower() or "word_groups" in text, text[-2000:]
    assert not leftovers(wd / "results")


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:
        rng = np.random.default_rng(0)
        path.write_bytes(rng.integers(0, 256, len(data), dtype=np.uint8).tobytes())


@pytest.mark.workflow
@pytest.mark.parametrize("how", ["truncated", "corrupted"])
def test_damaged_model_file_gives_one_clear_error(smoke, tmp_path, how):
    """A model file damaged after training: every reader fails with CheckpointError naming the file."""
    wd = copy_wd(smoke, tmp_path / "wd")
    _damage(wd / MONTHS_MODEL, how)
    res = snakemake(["metrics"], wd, "--keep-going", cores=1, timeout=300)
    text = assert_one_clear_error(res, "model.safetensors")
    assert "delete" in text.lower() or "retrain" in text.lower() or "rerun" in text.lower(), text[-2000:]
    assert not leftovers(wd / "results")
    readers = wd / MONTHS_MODEL.replace("/models/", "/metrics/").replace("V400_G5_S1/", "V400_G5_S1/models/")
    readers = readers.parent
    if readers.is_dir():  # the per-model metric tables of the damaged model were removed with their failed job
        files = sorted(p.name for p in readers.iterdir())
        data = [f for f in files if not f.endswith(".prov.json")]
        assert not data, f"partial output of the failed job: {data}"
        stale = [f for f in files if f.endswith(".prov.json") and f[: -len(".prov.json")] not in files]
        assert not stale, f"provenance sidecars left behind for outputs the failed job removed: {stale}"
    assert (wd / MONTHS_MODEL).exists(), "the damaged input itself stays for inspection"


# --------------------------------------------------------------------------------------------- checkpoint safety


@pytest.mark.workflow
def test_model_files_are_safetensors_without_pickle(smoke):
    """Every model file is W float32 [L, V] and b float32 [V] in safetensors, read here by hand: an 8-byte header
    length, a JSON header, raw bytes (no pickle anywhere), with the model's metadata in the header."""
    import json
    import struct

    models = sorted(smoke.rglob("model.safetensors"))
    # 11 on the full window set (9 trained, 2 PCA); the months ablation's ReLU and PCA models on each of its two
    # window sets
    assert len(models) == 15 and not list(smoke.rglob("model.pt"))
    for m in models:
        data = m.read_bytes()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + n])
        assert set(header) == {"__metadata__", "W", "b"}
        L, V = header["W"]["shape"]
        assert header["W"]["dtype"] == header["b"]["dtype"] == "F32" and header["b"]["shape"] == [V]
        assert len(data) == 8 + n + 4 * (L * V + V)
        meta = json.loads(header["__metadata__"]["bows"])
        assert (meta["V"], meta["L"]) == (V, L) and meta["format"] == "bows-model/1"


def test_every_torch_load_in_the_library_is_weights_only():
    import ast

    offenders = []
    for f in sorted((ROOT / "workflow").rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                kw = {k.arg: ast.unparse(k.value) for k in node.keywords}
                if kw.get("weights_only") != "True":
                    offenders.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"torch.load without weights_only=True: {offenders}"


# --------------------------------------------------------------------------------------------- write errors


def _mount_tmpfs(where: Path, options: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to simulate the write error: {res.stderr.strip()}")


def _umount(where: Path) -> None:
    subprocess.run(["umount", str(where)], capture_output=True)


def _write_error_run(wd: Path) -> subprocess.CompletedProcess:
    return snakemake(["corpus"], wd, cores=1, timeout=180)


@pytest.mark.workflow
def test_read_only_results_folder_surfaces(tmp_path):
    wd = tmp_path / "wd"
    results = wd / "results"
    if os.geteuid() == 0:
        _mount_tmpfs(results, "ro,size=1m")
    else:
        results.mkdir(parents=True)
        results.chmod(0o555)
    try:
        res = _write_error_run(wd)
        text = output(res)
        assert res.returncode != 0, text[-3000:]
        assert re.search(r"Read-only file system|Permission denied", text), text[-3000:]
        assert not any(results.rglob("*.parquet"))
    finally:
        if os.geteuid() == 0:
            _umount(results)
        else:
            results.chmod(0o755)


@pytest.mark.workflow
def test_full_disk_surfaces_and_leaves_no_partial_output(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("simulating a full disk mounts a tiny tmpfs, which needs root")
    wd = tmp_path / "wd"
    results = wd / "results"
    _mount_tmpfs(results, "size=256k")
    try:
        res = _write_error_run(wd)
        text = output(res)
        assert res.returncode != 0, text[-3000:]
        assert "No space left on device" in text or "disk" in text.lower(), text[-3000:]
        assert not any(results.rglob("*.parquet")), "a parquet file survived a full disk"
        assert not leftovers(results), leftovers(results)
    finally:
        _umount(results)
