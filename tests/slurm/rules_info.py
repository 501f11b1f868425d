"""Rules of the workflow as Snakemake parses them: name, conda env, script, resources (JSON on stdout).

Run in a separate process (parsing a workflow changes the working directory and global logging)::

    python tests/slurm/rules_info.py SNAKEFILE WORKDIR [CONFIGFILE ...]

:func:`rules_info` does that and returns the list of dicts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MARK = "RULES_JSON:"


def rules_info(
    snakefile: str | Path,
    workdir: str | Path,
    configfiles: list[str | Path] = (),
    python: str = sys.executable,
    timeout: float = 120,
) -> list[dict]:
    """Parse the workflow in a subprocess; one dict per rule (see :func:`_dump`)."""
    res = subprocess.run(
        [python, __file__, str(snakefile), str(workdir), *map(str, configfiles)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(Path(snakefile).parent),
    )
    for line in res.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise RuntimeError(
        f"parsing {snakefile} failed (exit {res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    )


def _dump(snakefile: str, workdir: str, configfiles: list[str]) -> list[dict]:
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    Path(workdir).mkdir(parents=True, exist_ok=True)
    out = []
    with SnakemakeApi(OutputSettings()) as api:
        wf = api.workflow(
            resource_settings=ResourceSettings(),
            config_settings=ConfigSettings(configfiles=[Path(c).resolve() for c in configfiles]),
            snakefile=Path(snakefile).resolve(),
            workdir=Path(workdir).resolve(),
        )._workflow
        for rule in wf.rules:
            resources = {}
            for key, res in rule.resources.items():
                if key.startswith("_") or key == "tmpdir":
                    continue
                resources[key] = "<function>" if res.is_evaluable() else res.value
            conda = rule.conda_env
            if conda is not None and not isinstance(conda, str):
                conda = str(getattr(conda, "file", conda))
            out.append(
                {
                    "name": rule.name,
                    "snakefile": str(rule.snakefile),
                    "basedir": str(rule.basedir),
                    "conda": conda,
                    "script": str(rule.script) if rule.script else None,
                    "stage": getattr(rule.params, "stage", None),  # the stage module a stage rule runs
                    "notebook": str(rule.notebook) if getattr(rule, "notebook", None) else None,
                    "shell": rule.shellcmd,
                    "wrapper": getattr(rule, "wrapper", None),
                    "run": bool(
                        rule.run_func is not None
                        and not rule.norun
                        and not rule.script
                        and not rule.shellcmd
                        and not getattr(rule, "notebook", None)
                        and not getattr(rule, "wrapper", None)
                    ),
                    "resources": resources,
                    "threads": rule.resources["_cores"].value if not rule.resources["_cores"].is_evaluable() else None,
                }
            )
    return out


if __name__ == "__main__":
    rules = _dump(sys.argv[1], sys.argv[2], sys.argv[3:])
    print(MARK + json.dumps(rules, default=str))
