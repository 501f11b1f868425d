"""Run one library call as a Snakemake job: logging to the rule's log, thread limits, clean failures.

Every stage rule runs ``workflow/scripts/stage.py``, one line around :func:`run_stage`: it imports the module
that ``params.stage`` names, builds a :class:`bows.stage.Job` and calls the module's ``run(job)`` through
:func:`run`. The ``job`` argument is duck-typed (anything
with ``log``, ``threads`` and ``output``), so the library itself never imports Snakemake.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import BowsError
from .io import sidecar_path

log = logging.getLogger("bows")


def setup_logging(log_file: str | os.PathLike | None = None, level: int = logging.INFO) -> None:
    """Log to stderr and, if given, to ``log_file`` (created with its folder)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s", handlers=handlers, force=True
    )


def limit_threads(n: int) -> None:
    """Keep numerical libraries to ``n`` threads (the job's share of the machine).

    numba's pool is not sized through ``NUMBA_NUM_THREADS``: numba re-reads that variable at every compilation and
    refuses a value that differs from the pool it already launched. The kernels are capped with
    ``numba.set_num_threads`` instead, now if they are loaded, or when they load (``BOWS_NUM_THREADS``).
    """
    n = max(1, int(n))
    for var in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "BOWS_NUM_THREADS",
    ):
        os.environ[var] = str(n)
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(n)
    kernels = sys.modules.get(f"{__package__}.kernels")
    if kernels is not None:
        kernels.set_threads(n)


def _remove_outputs(paths: list[str]) -> None:
    """Delete a failed job's outputs and their provenance sidecars (nothing partial is left behind)."""
    for p in paths:
        for path in (Path(p), sidecar_path(p)):
            try:
                if path.is_file() or path.is_symlink():
                    path.unlink()
            except OSError:
                pass


def run(job: Any, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call ``func(*args, **kwargs)`` inside a Snakemake job.

    A :class:`BowsError` is reported as its one-line problem and fix (no traceback), the job's outputs are removed,
    and the process exits with status 1. Other exceptions propagate with their traceback.
    """
    log_files = list(getattr(job, "log", []) or [])
    setup_logging(log_files[0] if log_files else None)
    limit_threads(getattr(job, "threads", 1) or 1)
    name = getattr(job, "rule", func.__name__)
    start = time.perf_counter()
    try:
        result = func(*args, **kwargs)
    except BowsError as err:
        log.error("%s failed: %s", name, err)
        _remove_outputs([str(p) for p in getattr(job, "output", [])])
        print(f"bows: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    log.info("%s done in %.1f s", name, time.perf_counter() - start)
    return result


def run_stage(smk: Any) -> Any:
    """Run the stage module that ``smk.params.stage`` names on the job ``smk`` describes (the Snakemake object of
    ``workflow/scripts/stage.py``)."""
    import importlib

    from .stage import Job

    module = importlib.import_module(smk.params.stage)
    job = Job.from_snakemake(smk, module.STAGE)
    return run(smk, module.run, job)
