"""Formats, atomic writes and provenance sidecars.

Every file the pipeline writes goes through :func:`atomic_path`: the content is written to a temporary file in the
same folder and renamed into place, so a killed job never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import glob
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "atomic_path",
    "write_json",
    "read_json",
    "write_text",
    "save_npy",
    "load_npz",
    "write_table",
    "file_sha256",
    "package_versions",
    "code_version",
    "provenance",
    "write_sidecar",
    "sidecar_path",
]

PACKAGES = (
    "bows",
    "numpy",
    "pandas",
    "pyarrow",
    "torch",
    "safetensors",
    "datasets",
    "snakemake",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "seaborn",
    "nltk",
    "umap-learn",
)


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    The temporary name keeps the final suffix (libraries such as numpy or matplotlib pick the format from it). On
    error the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs get the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that :func:`atomic_path` writes next to ``path`` and that a killed process
    (SIGKILL, power loss) could not remove. Call it only when no other process writes ``path``. Returns them."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    stale = [p for p in path.parent.glob(f".{glob.escape(path.name)}.*.tmp*") if p.is_file()]
    for p in stale:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    return stale


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path,)):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as pretty JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, default=_json_default, allow_nan=True) + "\n", encoding="utf-8")


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Save a ``.npy`` file atomically (memory-mappable with ``np.load(path, mmap_mode='r')``)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(array))


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read without pickle (object arrays are refused)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_table(df, stem: str | os.PathLike, csv: bool = True) -> list[Path]:
    """Write a tidy table as ``{stem}.parquet`` (and ``{stem}.csv``), atomically. Returns the paths written."""
    stem = Path(stem)
    if stem.suffix in (".parquet", ".csv"):
        stem = stem.with_suffix("")
    out = [stem.with_suffix(".parquet")]
    with atomic_path(out[0]) as tmp:
        df.to_parquet(tmp, index=False)
    if csv:
        out.append(stem.with_suffix(".csv"))
        with atomic_path(out[1]) as tmp:
            df.to_csv(tmp, index=False)
    return out


def write_html_table(
    df,
    path: str | os.PathLike,
    title: str,
    *,
    escape: bool = True,
    na_rep: str = "—",
    align: str = "right",
    intro: str = "",
) -> Path:
    """Write ``df`` as a standalone HTML page (for the Snakemake report), atomically. Returns the path.

    Floats are shown to 4 significant digits; ``escape=False`` keeps HTML already in the cells; ``intro`` is HTML
    put above the table."""
    import html as _html

    body = df.to_html(
        index=False, float_format=lambda v: f"{v:.4g}", na_rep=na_rep, border=0, escape=escape, classes="bows-table"
    )
    style = (
        "<style>body{font-family:sans-serif;font-size:12px}table{border-collapse:collapse}"
        f"th,td{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:{align};vertical-align:top}}"
        "th{position:sticky;top:0;background:#f4f4f4}</style>"
    )
    with atomic_path(path) as tmp:
        tmp.write_text(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{_html.escape(title)}</title>"
            f"{style}</head><body>{intro}{body}</body></html>",
            encoding="utf-8",
        )
    return Path(path)


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def code_version() -> dict[str, Any]:
    """The git commit of the code (and whether the tree had local changes), when run from a checkout."""
    from . import __version__

    here = Path(__file__).resolve().parent
    info: dict[str, Any] = {"bows": __version__}
    try:
        commit = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if commit.returncode == 0:
            info["git_commit"] = commit.stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", str(here), "status", "--porcelain", "--", str(here)],
                capture_output=True,
                text=True,
                timeout=5,
            )
            info["git_dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def provenance(
    config: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    hash_inputs: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A provenance record: config slice, input files (with sha256), package and code versions, host, time."""
    files: dict[str, Any] = {}
    for key, value in (inputs or {}).items():
        paths = value if isinstance(value, (list, tuple)) else [value]
        entries = []
        for p in paths:
            p = Path(p)
            entry: dict[str, Any] = {"path": str(p)}
            if p.is_file():
                entry["bytes"] = p.stat().st_size
                if hash_inputs:
                    entry["sha256"] = file_sha256(p)
            entries.append(entry)
        files[key] = entries if isinstance(value, (list, tuple)) else entries[0]
    return {
        "config": dict(config or {}),
        "inputs": files,
        "packages": package_versions(),
        "code": code_version(),
        "python": platform.python_version(),
        "host": platform.node(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **extra,
    }


def sidecar_path(path: str | os.PathLike) -> Path:
    """``results/x/vocab.tsv`` → ``results/x/vocab.tsv.prov.json``."""
    path = Path(path)
    return path.with_name(path.name + ".prov.json")


def write_sidecar(
    path: str | os.PathLike,
    config: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Path:
    """Write the provenance sidecar of output ``path``; returns the sidecar's path."""
    side = sidecar_path(path)
    write_json(side, provenance(config, inputs, **extra))
    return side
