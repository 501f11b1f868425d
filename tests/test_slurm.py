"""Cluster submission: the SLURM and GPU profiles, and a real single-node SLURM running the smoke preset.

Fast checks (always): the profiles' keys are options of this Snakemake and its SLURM plugin, their resources reach
the jobs, a GPU request of the training rule becomes ``sbatch --gpus=[model:]1`` and nothing puts ``--gres``/``--gpus``
into ``slurm_extra``.

Real SLURM (``-m slurm``; runs where root and apt are available and ``CI`` or ``BOWS_SLURM_TEST=1`` is set, else skips
with the reason): brings up slurmctld + slurmd + munged in a scratch folder (tests/slurm/local_slurm.py), runs the
smoke preset's training DAG with ``--profile profiles/slurm`` plus the overrides such a node needs (partition
``debug``, ``squeue`` as status command, no account, no conda), checks the results equal a local run with the same
seeds, that a failing job is reported (``SLURM status is: 'FAILED'``, non-zero exit) and leaves no output, and that
the training rule's GPU request is submitted as ``--gpus``. Daemons are stopped by pid and the scratch folder removed.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent / "slurm"))
from conftest import ROOT
from local_slurm import LocalSlurm, unavailable_reason  # noqa: E402
from rules_info import rules_info  # noqa: E402

SNAKEFILE = ROOT / "Snakefile"
CONFIGS = [ROOT / "config.yaml", ROOT / "presets" / "smoke.yaml"]
SLURM_PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
GPU_PROFILE = ROOT / "profiles" / "gpu" / "config.yaml"
_BIN = Path(sys.executable).parent
SMK = str(_BIN / "snakemake") if (_BIN / "snakemake").exists() else "snakemake"

# What a single test node needs on top of profiles/slurm (also what docs/cluster.md tells a user without slurmdbd).
NODE_OVERRIDES = {
    "slurm-status-command": "squeue",  # no slurmdbd, so no sacct
    "slurm-init-seconds-before-status-checks": 5,
    "slurm-no-account": True,
    "latency-wait": 5,
}


def snakemake(
    targets: list[str], workdir: Path, *extra: str, configs: list[Path] = CONFIGS, env=None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``snakemake TARGETS -s Snakefile -d WORKDIR --configfile ... EXTRA`` with output captured."""
    cmd = [SMK, *targets, "-s", str(SNAKEFILE), "-d", str(workdir), *extra, "--configfile", *map(str, configs)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(ROOT))


@pytest.fixture(scope="module")
def smk_help() -> str:
    return subprocess.run([SMK, "--help"], capture_output=True, text=True, timeout=120).stdout


def _check_profile_keys(profile: dict, help_text: str) -> list[str]:
    return [k for k in profile if f"--{k}" not in help_text]


def _resource_dicts(profile: dict) -> list[tuple[str, dict]]:
    out = [("default-resources", profile.get("default-resources") or {})]
    out += [(f"set-resources.{rule}", res) for rule, res in (profile.get("set-resources") or {}).items()]
    return out


# --------------------------------------------------------------------------------------------- profiles (fast)


def test_slurm_profile_options_exist(smk_help):
    profile = yaml.safe_load(SLURM_PROFILE.read_text())
    unknown = _check_profile_keys(profile, smk_help)
    assert not unknown, f"profiles/slurm keys that `snakemake --help` does not know: {unknown}"
    assert profile["executor"] == "slurm"
    assert profile["software-deployment-method"] == "conda"
    assert int(profile["retries"]) >= 1, "transient failures (node loss, preemption, OOM) need retries"
    default = profile["default-resources"]
    for key in ("mem_mb", "runtime", "slurm_partition"):
        assert key in default, f"profiles/slurm default-resources lacks {key}"
    assert "slurm_partition" in profile["set-resources"]["train_model"], "training needs a GPU partition"
    for where, res in _resource_dicts(profile):
        extra = str(res.get("slurm_extra", ""))
        assert not re.search(r"--(gres|gpus)\b", extra), f"{where}.slurm_extra must not carry --gres/--gpus"
        assert "gpu" not in res, f"{where}: GPUs are requested by the training rule itself, not the profile"
    for key in NODE_OVERRIDES:
        assert f"--{key}" in smk_help, f"the SLURM plugin has no option --{key}"
    smk_files = (ROOT / "workflow/rules").glob("*.smk")
    rules = {m for f in smk_files for m in re.findall(r"^rule (\w+):", f.read_text(), re.M)}
    for key in ("set-threads", "set-resources"):
        assert set(profile[key]) <= rules, f"profiles/slurm {key} names no such rule: {set(profile[key]) - rules}"
    assert all(int(n) >= 1 for n in profile["set-threads"].values())


def test_gpu_profile_options_exist(smk_help):
    profile = yaml.safe_load(GPU_PROFILE.read_text())
    unknown = _check_profile_keys(profile, smk_help)
    assert not unknown, f"profiles/gpu keys that `snakemake --help` does not know: {unknown}"
    assert profile.get("executor", "local") == "local"
    assert any(str(r).startswith("gpu=") for r in profile["resources"]), "profiles/gpu must cap jobs by gpu=N"
    text = GPU_PROFILE.read_text()
    assert "bows/devices.py" in text and "lock" in text, "profiles/gpu documents the GPU lease"


def _dry_run_resources(profile_args: list[str], workdir: Path) -> list[str]:
    res = snakemake(["train"], workdir, "-n", *profile_args, "--sdm", "env-modules")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return [line.strip() for line in (res.stdout + res.stderr).splitlines() if line.strip().startswith("resources:")]


def test_slurm_profile_resources_reach_every_job(tmp_path):
    """Run the documented way (--workflow-profile none), every job carries the partition and memory."""
    lines = _dry_run_resources(["--profile", str(SLURM_PROFILE.parent), "--workflow-profile", "none"], tmp_path)
    assert lines, "the dry run listed no jobs"
    assert all("slurm_partition=" in line and "mem_mb=" in line for line in lines), "\n".join(lines)


def test_training_rule_gpu_request_becomes_gpus_flag(tmp_path):
    """train.device cuda + train.gpu_model → rule resources gpu=1, gpu_model → plugin writes --gpus=a100:1."""
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    over = tmp_path / "gpu.yaml"
    over.write_text(yaml.safe_dump({"train": {"device": "cuda", "gpu_model": "a100"}}))
    rules = {r["name"]: r for r in rules_info(SNAKEFILE, tmp_path / "wd", [*CONFIGS, over])}
    res = rules["train_model"]["resources"]
    assert res.get("gpu") == 1 and res.get("gpu_model") == "a100", res

    class Res(dict):
        __getattr__ = dict.get

    job = SimpleNamespace(resources=Res(gpu=1, gpu_model="a100"))
    assert set_gres_string(job).strip() == "--gpus=a100:1"
    job = SimpleNamespace(resources=Res(gpu=1))
    assert set_gres_string(job).strip() == "--gpus=1"
    cpu_rules = {r["name"]: r for r in rules_info(SNAKEFILE, tmp_path / "wd2", [*CONFIGS])}
    assert not cpu_rules["train_model"]["resources"].get("gpu"), "a CPU run must not ask SLURM for a GPU"


def test_paper_preset_requests_gpus_from_a_login_node_without_any(tmp_path, monkeypatch):
    """Parsed where no GPU exists, the paper preset still asks for one GPU per training job, in the CUDA env."""
    monkeypatch.setenv("BOWS_FAKE_GPUS", "0")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    rules = {
        r["name"]: r
        for r in rules_info(SNAKEFILE, tmp_path / "wd", [ROOT / "config.yaml", ROOT / "presets" / "paper.yaml"])
    }
    train = rules["train_model"]
    assert train["resources"].get("gpu") == 1, train["resources"]
    assert Path(train["conda"]).name == "train-cuda.yaml", train["conda"]


# --------------------------------------------------------------------------------------------- a real SLURM


def _slurm_skip_reason() -> str | None:
    if not (os.environ.get("CI") or os.environ.get("BOWS_SLURM_TEST") == "1"):
        return "set BOWS_SLURM_TEST=1 (or CI) to bring up a real single-node SLURM (needs root and apt)"
    return unavailable_reason()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = _slurm_skip_reason()
    if reason:
        pytest.skip(reason)
    # not under pytest's tmp (mode 700): munged runs as the munge user and must reach its folder
    scratch = Path(tempfile.mkdtemp(prefix="bows-slurm-"))
    start = time.perf_counter()
    with LocalSlurm(scratch) as c:
        c.bringup_seconds = time.perf_counter() - start
        yield c
    assert not scratch.exists(), "the scratch folder was not removed"


def node_profile(dest: Path, **extra) -> Path:
    """profiles/slurm with this node's overrides (partition debug, squeue, no account, no conda)."""
    profile = yaml.safe_load(SLURM_PROFILE.read_text())
    profile.pop("software-deployment-method", None)  # no conda here: jobs use the Python running the tests
    profile["default-resources"]["slurm_partition"] = "debug"
    for res in profile.get("set-resources", {}).values():
        if "slurm_partition" in res:
            res["slurm_partition"] = "debug"
    cores = os.cpu_count() or 1  # the profile's set-threads suit cluster nodes; a job asking more never starts here
    profile["set-threads"] = {rule: min(int(n), cores) for rule, n in profile.get("set-threads", {}).items()}
    profile.update(NODE_OVERRIDES)
    profile.update(extra)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return dest


def slurm_snakemake(
    cluster: LocalSlurm,
    targets: list[str],
    workdir: Path,
    profile: Path,
    *extra: str,
    configs: list[Path] = CONFIGS,
    timeout: float = 420,
) -> subprocess.CompletedProcess:
    return snakemake(
        targets,
        workdir,
        "--profile",
        str(profile),
        "--workflow-profile",
        "none",
        *extra,
        configs=configs,
        env=cluster.client_env(),
        timeout=timeout,
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(results: Path) -> list[str]:
    return sorted(str(p) for p in results.rglob("*") if ".tmp" in p.name)


# Two models (the ones the smoke analyses name), without the co-occurrence ablation's window sets, keep the SLURM run
# to one wave of jobs on a 2-CPU node.
SMALL_GRID = {
    "train": {"grid": [{"latent": [16], "weight_decay": [1.0, 4.0], "seed": [1]}]},
    "windows": {"exclude_cooccurrence": []},
    "analysis": {"models": {"umap": [{"latent": 16, "weight_decay": 1.0, "seed": 1}]}},
}


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    """The smoke preset's training DAG (corpus, vocab, docs, windows, 2 models), locally and through SLURM."""
    base = tmp_path_factory.mktemp("runs")
    grid = base / "grid.yaml"
    grid.write_text(yaml.safe_dump(SMALL_GRID))
    configs = [*CONFIGS, grid]
    t0 = time.perf_counter()
    local = snakemake(["train"], base / "local", "--cores", "2", configs=configs)
    t1 = time.perf_counter()
    assert local.returncode == 0, local.stderr[-5000:]
    prof = node_profile(base / "profile")
    slurm = slurm_snakemake(cluster, ["train"], base / "slurm", prof, configs=configs)
    t2 = time.perf_counter()
    print(f"\nlocal run {t1 - t0:.1f} s, SLURM run {t2 - t1:.1f} s, bring-up {cluster.bringup_seconds:.1f} s")
    return SimpleNamespace(
        local=base / "local", slurm=base / "slurm", slurm_result=slurm, profile=prof, configs=configs
    )


@pytest.mark.slurm
@pytest.mark.workflow
def test_local_cluster_runs_jobs(cluster):
    jobid = cluster.sbatch_wrap("true")
    deadline = time.time() + 60
    while time.time() < deadline:
        state = subprocess.run(
            ["squeue", "-h", "-j", jobid, "-t", "all", "-o", "%T"],
            env=cluster.client_env(),
            capture_output=True,
            text=True,
        ).stdout.strip()
        if state == "COMPLETED":
            return
        time.sleep(0.5)
    pytest.fail(f"sbatch --wrap true did not complete: {state!r}\n{cluster.logs()}")


@pytest.mark.slurm
@pytest.mark.workflow
def test_smoke_on_slurm_equals_local_run(runs):
    res = runs.slurm_result
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-6000:]
    assert "submitted with SLURM jobid" in log or "SLURM jobid" in log, "jobs did not go through SLURM"
    import torch

    local_models = sorted(runs.local.rglob("model.safetensors"))
    assert local_models, "the local run trained no model"
    for lm in local_models:
        sm = runs.slurm / lm.relative_to(runs.local)
        assert sm.is_file(), f"{sm} missing after the SLURM run"
        a = torch.load(lm, weights_only=True)
        b = torch.load(sm, weights_only=True)
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{lm.relative_to(runs.local)}[{k}] differs between SLURM and local"
    for pattern in ("*.parquet", "vocab.tsv", "*.npy"):
        for lf in sorted((runs.local / "results").rglob(pattern)):
            sf = runs.slurm / lf.relative_to(runs.local)
            assert _sha(lf) == _sha(sf), f"{lf.relative_to(runs.local)} differs between SLURM and local"


@pytest.mark.slurm
@pytest.mark.workflow
def test_failing_job_is_reported_and_leaves_no_output(cluster, runs, tmp_path):
    bad = tmp_path / "bad.txt"  # invalid UTF-8: the job (not the parse) fails
    bad.write_bytes(b"fine line one\n\xff\xfe broken \xc3\x28 bytes\n" * 50)
    over = tmp_path / "bad.yaml"
    over.write_text(
        yaml.safe_dump(
            {"corpus": {"name": "broken", "source": "local", "local": {"train": str(bad), "format": "text"}}}
        )
    )
    wd = tmp_path / "wd"
    res = slurm_snakemake(
        cluster, ["corpus"], wd, runs.profile, "--retries", "0", configs=[*CONFIGS, over], timeout=240
    )
    log = res.stdout + res.stderr
    assert res.returncode != 0, log[-4000:]
    assert "SLURM status is: 'FAILED'" in log, log[-4000:]
    corpus_dir = wd / "results" / "broken" / "corpus"
    left = sorted(p.name for p in corpus_dir.glob("*")) if corpus_dir.exists() else []
    assert not left, f"a failed job left outputs behind: {left}"
    if (wd / "results").exists():
        assert not _leftovers(wd / "results")
    assert "not valid UTF-8" in log or "UTF-8" in log, "the job's own error should reach the user"


@pytest.mark.slurm
@pytest.mark.workflow
def test_gpu_request_is_submitted_as_gpus(cluster, runs, tmp_path):
    """The node has no GPU: the submission is refused, but the logged sbatch call shows what a cluster gets."""
    over = tmp_path / "gpu.yaml"
    over.write_text(yaml.safe_dump({"train": {"device": "cuda", "gpu_model": "a100"}}))
    model = sorted(runs.slurm.rglob("model.safetensors"))[0].relative_to(runs.slurm)
    res = slurm_snakemake(
        cluster,
        [str(model)],
        runs.slurm,
        runs.profile,
        "--forcerun",
        "train_model",
        "--verbose",
        "--retries",
        "0",
        configs=[*runs.configs, over],
        timeout=180,
    )
    log = res.stdout + res.stderr
    calls = [line for line in log.splitlines() if "sbatch" in line and "rule_train_model" in line]
    assert calls, "no sbatch call for train_model was logged:\n" + log[-4000:]
    assert any("--gpus=a100:1" in c for c in calls), "\n".join(calls)
    assert not any("--gres" in c for c in calls), "\n".join(calls)
