"""Atomic writes and provenance sidecars."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from bows import io


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "sub" / "out.json"
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list((tmp_path / "sub").iterdir()) == []


def test_atomic_path_replaces_existing(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    io.write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_save_npy_is_memory_mappable(tmp_path):
    arr = np.arange(10, dtype=np.uint16)
    io.save_npy(tmp_path / "a.npy", arr)
    loaded = np.load(tmp_path / "a.npy", mmap_mode="r")
    assert isinstance(loaded, np.memmap) and loaded.dtype == np.uint16 and loaded.tolist() == arr.tolist()


def test_write_table_parquet_and_csv(tmp_path):
    df = pd.DataFrame({"model": ["a", "a"], "item": ["x", "y"], "metric": ["m", "m"], "value": [1.0, np.nan]})
    paths = io.write_table(df, tmp_path / "t")
    assert [p.name for p in paths] == ["t.parquet", "t.csv"]
    pd.testing.assert_frame_equal(pd.read_parquet(paths[0]), df)


def test_sidecar_records_inputs_and_versions(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("abc")
    out = tmp_path / "out.tsv"
    out.write_text("x")
    side = io.write_sidecar(out, config={"size": 3}, inputs={"train": src})
    prov = json.loads(side.read_text())
    assert side.name == "out.tsv.prov.json"
    assert prov["config"] == {"size": 3}
    assert prov["inputs"]["train"]["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert prov["packages"]["numpy"] == np.__version__


def test_atomic_outputs_get_umask_permissions(tmp_path):
    io.write_text(tmp_path / "p.txt", "x")
    mode = (tmp_path / "p.txt").stat().st_mode & 0o777
    assert mode == 0o666 & ~io._UMASK and mode & 0o044  # group/others can read under a usual umask


def test_remove_stale_temps_removes_only_the_temporaries_of_that_file(tmp_path):
    from bows.io import atomic_path, remove_stale_temps

    target = tmp_path / "state.pt"
    target.write_text("saved")
    # what a process killed inside atomic_path leaves: its temporary file next to the target
    stale = tmp_path / ".state.pt.abc123.tmp.pt"
    stale.write_text("half")
    other = tmp_path / ".model.pt.xyz.tmp.pt"
    other.write_text("another file's")
    assert remove_stale_temps(target) == [stale]
    assert not stale.exists() and other.exists() and target.read_text() == "saved"
    with atomic_path(target) as tmp:  # a later write still works
        tmp.write_text("new")
    assert target.read_text() == "new" and remove_stale_temps(target) == []
    assert remove_stale_temps(tmp_path / "nowhere" / "x.pt") == []
