"""Copying files into and out of export folders, byte for byte and atomically."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..io import atomic_path

__all__ = ["copy_file"]


def copy_file(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy ``src`` (a symlink is followed, as in a hub cache) onto ``dst`` atomically, byte for byte."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(os.path.realpath(src), tmp)
    return Path(dst)
