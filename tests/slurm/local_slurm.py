"""A real single-node SLURM (slurmctld + slurmd + munged) in a scratch folder, for tests that submit jobs.

Everything the daemons write lives under one scratch folder: ``slurm.conf``, the munge key and socket
(``AuthInfo=socket=...``), state, spool, pid and log files. Clients find the configuration through ``SLURM_CONF``;
but Snakemake's job-step executor strips every ``SLURM_*`` variable before its nested ``srun``, so ``srun`` inside a
job reads the default ``/etc/slurm/slurm.conf``: that path becomes a symlink to the scratch file while the cluster is
up (only when nothing is there; it is removed at teardown, and an existing file is never touched). The daemons run in
the foreground as children of this process; their pids are kept (and written to ``pids.json``) and they are stopped
by pid, never by name.

Needs root, Debian's ``slurm-wlm`` and ``munge`` packages (installed with apt-get when missing and allowed). Used by
``tests/test_slurm.py``; also a command line for trying the profile by hand::

    python tests/slurm/local_slurm.py up /tmp/slurm-scratch     # prints the environment to export
    python tests/slurm/local_slurm.py down /tmp/slurm-scratch   # stops the daemons by pid, removes the folder
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["unavailable_reason", "install", "LocalSlurm", "SlurmError"]

PACKAGES = ("slurm-wlm", "munge")
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
BINARIES = ("slurmctld", "slurmd", "munged", "mungekey", "sbatch", "squeue", "sinfo", "srun")


class SlurmError(RuntimeError):
    """The local cluster could not be brought up (message includes the daemon logs)."""


def unavailable_reason(allow_install: bool = True) -> str | None:
    """Why a local SLURM cannot be brought up here, or None when it can."""
    if sys.platform != "linux":
        return "a local SLURM needs Linux"
    if os.geteuid() != 0:
        return "bringing up slurmctld/slurmd/munged needs root"
    if SYSTEM_CONF.is_symlink() and not SYSTEM_CONF.exists():
        SYSTEM_CONF.unlink()  # dangling link left by an earlier, killed test session
    if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
        return (
            f"{SYSTEM_CONF} already exists (a real SLURM installation?); a throw-away local cluster would clash with it"
        )
    missing = [b for b in BINARIES if not _which(b)]
    if missing and not (allow_install and shutil.which("apt-get")):
        return f"SLURM binaries {missing} are missing and apt-get is not available to install slurm-wlm and munge"
    return None


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def install(timeout: float = 600) -> None:
    """``apt-get install slurm-wlm munge`` when any binary is missing (about 50 s the first time)."""
    if all(_which(b) for b in BINARIES):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise SlurmError(f"{' '.join(cmd)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_pair(start: int = 16817) -> tuple[int, int]:
    for port in range(start, start + 400, 2):
        if _port_free(port) and _port_free(port + 1):
            return port, port + 1
    raise SlurmError("no free pair of TCP ports for slurmctld/slurmd")


class LocalSlurm:
    """One node (``localhost``, ``cpus`` CPUs) in one partition ``debug``; use as a context manager.

    ``min_job_age`` must stay at least 3x the executor's ``--slurm-init-seconds-before-status-checks`` or the
    Snakemake plugin silently goes back to ``sacct`` (which needs slurmdbd, absent here).
    """

    def __init__(self, scratch: str | os.PathLike, cpus: int = 2, mem_mb: int = 16000, min_job_age: int = 600):
        self.scratch = Path(scratch).resolve()
        self.cpus = cpus
        self.mem_mb = mem_mb
        self.min_job_age = min_job_age
        self.procs: dict[str, subprocess.Popen] = {}
        self.conf = self.scratch / "slurm.conf"

    # ------------------------------------------------------------------ environment for clients (sbatch, squeue, ...)
    @property
    def env(self) -> dict[str, str]:
        """Variables a client process needs: ``SLURM_CONF`` and a PATH holding the SLURM binaries."""
        path = os.environ.get("PATH", "")
        for extra in ("/usr/sbin", "/usr/bin"):
            if extra not in path.split(":"):
                path = f"{path}:{extra}"
        return {"SLURM_CONF": str(self.conf), "PATH": path}

    def client_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    # ------------------------------------------------------------------ bring-up
    def _write_files(self) -> None:
        s = self.scratch
        for sub in ("state", "spool", "log", "run", "munge"):
            (s / sub).mkdir(parents=True, exist_ok=True)
        munge = pwd.getpwnam("munge")
        os.chmod(s, 0o755)
        os.chown(s / "munge", munge.pw_uid, munge.pw_gid)
        os.chmod(s / "munge", 0o700)
        key = s / "munge" / "munge.key"
        res = subprocess.run([_which("mungekey"), "--create", f"--keyfile={key}"], capture_output=True, text=True)
        if res.returncode != 0:
            raise SlurmError(f"mungekey failed: {res.stderr}")
        os.chown(key, munge.pw_uid, munge.pw_gid)
        os.chmod(key, 0o600)
        ctld_port, slurmd_port = _free_port_pair()
        host = socket.gethostname().split(".")[0]
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=local",
                    f"SlurmctldHost={host}(127.0.0.1)",
                    f"SlurmctldPort={ctld_port}",
                    f"SlurmdPort={slurmd_port}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    f"AuthInfo=socket={s / 'munge' / 'munge.socket.2'}",
                    "CredType=cred/munge",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_CPU_Memory",
                    "AccountingStorageType=accounting_storage/none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "JobCompType=jobcomp/none",
                    "MpiDefault=none",
                    "ReturnToService=2",
                    f"MinJobAge={self.min_job_age}",
                    "SchedulerType=sched/backfill",
                    "SlurmctldTimeout=30",
                    "SlurmdTimeout=30",
                    "InactiveLimit=0",
                    "KillWait=5",
                    "Waittime=0",
                    f"StateSaveLocation={s / 'state'}",
                    f"SlurmdSpoolDir={s / 'spool'}",
                    f"SlurmctldPidFile={s / 'run' / 'slurmctld.pid'}",
                    f"SlurmdPidFile={s / 'run' / 'slurmd.pid'}",
                    f"SlurmctldLogFile={s / 'log' / 'slurmctld.log'}",
                    f"SlurmdLogFile={s / 'log' / 'slurmd.log'}",
                    "SlurmctldDebug=info",
                    "SlurmdDebug=info",
                    f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.mem_mb} State=UNKNOWN",
                    "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )

    def _spawn(self, name: str, cmd: list[str], **kw) -> None:
        out = open(self.scratch / "log" / f"{name}.out", "wb")
        self.procs[name] = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.client_env(),
            start_new_session=True,
            **kw,
        )
        out.close()
        self._save_pids()

    def _save_pids(self) -> None:
        (self.scratch / "pids.json").write_text(json.dumps({k: p.pid for k, p in self.procs.items()}))

    def start(self, timeout: float = 60) -> LocalSlurm:
        """Install if needed, write the configuration, start munged, slurmctld and slurmd; wait for ``idle``."""
        reason = unavailable_reason()
        if reason:
            raise SlurmError(reason)
        install()
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._write_files()
        m = self.scratch / "munge"
        self._spawn(
            "munged",
            [
                _which("munged"),
                "--foreground",
                "--force",
                f"--socket={m / 'munge.socket.2'}",
                f"--key-file={m / 'munge.key'}",
                f"--pid-file={m / 'munged.pid'}",
                f"--log-file={m / 'munged.log'}",
                f"--seed-file={m / 'munged.seed'}",
            ],
            user="munge",
            group="munge",
        )
        self._wait(lambda: (m / "munge.socket.2").exists(), 15, "munged did not create its socket")
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.symlink_to(self.conf)
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-f", str(self.conf)])
        self._wait(lambda: self._run(["sinfo", "-h", "-o", "%P"]).returncode == 0, timeout, "slurmctld did not answer")
        self._spawn("slurmd", [_which("slurmd"), "-D", "-N", "localhost", "-f", str(self.conf)])
        self._wait(
            lambda: self._run(["sinfo", "-h", "-o", "%T"]).stdout.strip() == "idle",
            timeout,
            "the node did not become idle",
        )
        return self

    def _run(self, cmd: list[str], timeout: float = 20) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(cmd, env=self.client_env(), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as err:
            return subprocess.CompletedProcess(cmd, 124, "", str(err))

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise SlurmError(f"{what}: {dead} exited\n{self.logs()}")
            if ready():
                return
            time.sleep(0.3)
        raise SlurmError(f"{what} within {timeout:.0f} s\n{self.logs()}")

    def logs(self, tail: int = 3000) -> str:
        parts = []
        for f in sorted((self.scratch / "log").glob("*")) + [self.scratch / "munge" / "munged.log"]:
            if f.is_file():
                parts.append(f"--- {f.name}\n{f.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    def sbatch_wrap(self, command: str) -> str:
        """Submit ``sbatch --wrap`` and return the job id (a check that the cluster runs jobs)."""
        res = self._run(
            [
                "sbatch",
                "--parsable",
                "-D",
                str(self.scratch),
                "-o",
                str(self.scratch / "log" / "%j.out"),
                "--wrap",
                command,
            ]
        )
        if res.returncode != 0:
            raise SlurmError(f"sbatch failed: {res.stderr}\n{self.logs()}")
        return res.stdout.strip().split(";")[0]

    # ------------------------------------------------------------------ teardown
    def stop(self, remove: bool = True) -> None:
        """Stop slurmd, slurmctld, munged (in that order) by the pids kept at start; remove the scratch folder."""
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                _stop_pid(proc.pid, proc)
        _unlink_our_symlink(self.conf)
        if remove:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> LocalSlurm:
        try:
            return self.start()
        except BaseException:
            self.stop(remove=False)
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def _unlink_our_symlink(conf: Path) -> None:
    """Remove /etc/slurm/slurm.conf only when it is the symlink to ``conf`` made at start."""
    try:
        if SYSTEM_CONF.is_symlink() and Path(os.readlink(SYSTEM_CONF)) == conf:
            SYSTEM_CONF.unlink()
    except OSError:
        pass


def _stop_pid(pid: int, proc: subprocess.Popen | None = None, timeout: float = 15) -> None:
    """SIGTERM ``pid``, wait, then SIGKILL if it is still there."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                return
        else:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc is not None:
        proc.wait(5)


def _main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("up", "down"):
        print(__doc__)
        return 2
    action, scratch = argv[0], Path(argv[1]).resolve()
    if action == "up":
        cluster = LocalSlurm(scratch)
        try:
            cluster.start()
        except BaseException:
            cluster.stop(remove=False)
            raise
        for proc in cluster.procs.values():  # the daemons outlive this command; `down` stops them by pid
            proc.returncode = 0
        print(f"export SLURM_CONF={cluster.conf}")
        print(f"# daemons: {json.loads((scratch / 'pids.json').read_text())}; stop with: down {scratch}")
        return 0
    pids_file = scratch / "pids.json"
    if pids_file.is_file():
        pids = json.loads(pids_file.read_text())
        for name in ("slurmd", "slurmctld", "munged"):
            if name in pids:
                _stop_pid(int(pids[name]))
    _unlink_our_symlink(scratch / "slurm.conf")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
