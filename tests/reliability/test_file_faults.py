"""Weight files from strangers: every bad file gives WeightFileError and changes nothing."""

from __future__ import annotations

import datetime
import io
import json
import os
import pickle
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from psychrnn_widgets.engine import NetworkConfig, build_network, load_network, save_network
from psychrnn_widgets.engine.io import read_weight_file
from psychrnn_widgets.errors import WeightFileError

CONFIG = {"N_in": 3, "N_rec": 6, "N_out": 2, "seed": 1}


class MarkerPayload:
    """Unpickling this creates the marker file: proof that a loader ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def good_file(tmp_path) -> Path:
    return save_network(tmp_path / "good.npz", build_network(NetworkConfig(**CONFIG)))


def rewritten(good_file: Path, target: Path, **changes) -> Path:
    """Copy a good file's entries to ``target`` with some entries replaced (None drops one)."""
    entries = read_weight_file(good_file)
    entries.update(changes)
    np.savez(target, **{k: v for k, v in entries.items() if v is not None})
    return target


def make_bad_file(kind: str, tmp_path: Path, good_file: Path) -> Path:
    target = tmp_path / f"{kind}.npz"
    if kind == "truncated":
        data = good_file.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif kind == "wrong_shape":
        rewritten(good_file, target, W_rec=np.zeros((5, 5), dtype=np.float32))
    elif kind == "missing_entry":
        rewritten(good_file, target, W_out=None)
    elif kind == "non_finite":
        rewritten(good_file, target, W_in=np.full((6, 3), np.inf, dtype=np.float32))
    elif kind == "pickled_code":
        payload = np.empty(1, dtype=object)
        payload[0] = MarkerPayload(tmp_path / "marker")
        rewritten(good_file, target, transfer_function=payload)
    elif kind == "raw_pickle":
        target.write_bytes(pickle.dumps(MarkerPayload(tmp_path / "marker")))
    elif kind == "folder":
        target.mkdir()
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "text":
        target.write_text("W_rec,W_in\n1,2\n")
    elif kind == "bad_settings":
        config = json.loads(str(read_weight_file(good_file)["__config__"]))
        rewritten(good_file, target, __config__=np.array(json.dumps({**config, "tau": 1.0})))
    else:
        raise AssertionError(kind)
    return target


KINDS = ["truncated", "wrong_shape", "missing_entry", "non_finite", "pickled_code",
         "raw_pickle", "folder", "empty", "text", "bad_settings"]
EXPECTED = {
    "truncated": "is unreadable or truncated",
    "wrong_shape": "weight file entry 'W_rec' has shape (5, 5), expected (6, 6)",
    "missing_entry": "is missing the entry 'W_out'",
    "non_finite": "weight file entry 'W_in' contains NaN or infinite values",
    "pickled_code": "transfer_function",
    "raw_pickle": "is unreadable or truncated",
    "folder": "is a folder, not a file",
    "empty": "is unreadable or truncated",
    "text": "is unreadable or truncated",
    "bad_settings": "has invalid settings: tau must be at least dt",
}


@pytest.mark.parametrize("kind", KINDS)
def test_bad_file_raises_weight_file_error(kind, tmp_path, good_file):
    path = make_bad_file(kind, tmp_path, good_file)
    with pytest.raises(WeightFileError) as caught:
        load_network(path)
    assert EXPECTED[kind] in str(caught.value)
    assert not (tmp_path / "marker").exists(), "the file ran code while loading"


@pytest.mark.parametrize(("kind", "text"), [("badjson", "{not json"), ("list", "[1, 2]")])
def test_malformed_settings_raise_file_error(kind, text, tmp_path, good_file):
    path = rewritten(good_file, tmp_path / f"{kind}.npz", __config__=np.array(text))
    with pytest.raises(WeightFileError):
        load_network(path)


def test_zip_bomb_rejected_before_reading(tmp_path):
    path = tmp_path / "bomb.npz"
    entries = 100 * 2**20 // 8
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (entries,)}
    )
    chunk = bytes(2**20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("W_rec.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for _ in range(100):
                member.write(chunk)
    assert path.stat().st_size < 2 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(WeightFileError):
            load_network(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MiB while rejecting a 1 MiB file"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["truncated", "wrong_shape", "pickled_code", "folder", "empty",
                                  "text"])
def test_dashboard_load_keeps_network(kind, tmp_path, good_file, make_dashboard):
    board = make_dashboard(N_rec=6)
    network = board.network
    before = network.get_weights()
    path = make_bad_file(kind, tmp_path, good_file)
    board.controls.save_path.value = str(path)
    board.controls.load_button.click()
    assert board.status.level == "error"
    assert board.status.message.startswith("Load: weight file")
    assert EXPECTED[kind] in board.status.message
    assert board.network is network
    after = board.network.get_weights()
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value)
    assert not (tmp_path / "marker").exists()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["truncated", "pickled_code"])
def test_dashboard_bad_upload_keeps_network(kind, tmp_path, good_file, make_dashboard):
    board = make_dashboard(N_rec=6)
    network = board.network
    content = make_bad_file(kind, tmp_path, good_file).read_bytes()
    board.controls.upload.value = ({"name": "homework.npz", "type": "application/octet-stream",
                                    "size": len(content), "content": memoryview(content),
                                    "last_modified": datetime.datetime(2026, 1, 1)},)
    assert board.status.level == "error"
    assert board.status.message.startswith("Upload: weight file")
    assert EXPECTED[kind] in board.status.message
    if kind == "truncated":
        assert "'homework.npz' is unreadable" in board.status.message
    # The kernel's temporary folder is not shown to the student.
    assert "uploaded.npz" not in board.status.message
    assert "/tmp" not in board.status.message
    assert board.network is network
    assert not (tmp_path / "marker").exists()


def test_failed_rename_keeps_old_file(tmp_path, good_file, monkeypatch):
    before = good_file.read_bytes()
    other = build_network(NetworkConfig(**{**CONFIG, "seed": 2}))

    def failing_replace(source, target):
        raise OSError("power cut during rename")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="power cut"):
        save_network(good_file, other)
    monkeypatch.undo()
    assert good_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npz"]


def test_failed_write_keeps_old_file(tmp_path, good_file, monkeypatch):
    before = good_file.read_bytes()
    other = build_network(NetworkConfig(**{**CONFIG, "seed": 2}))
    real_savez = np.savez

    def partial_savez(stream, **arrays):
        buffer = io.BytesIO()
        real_savez(buffer, **arrays)
        stream.write(buffer.getvalue()[:100])
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", partial_savez)
    with pytest.raises(OSError, match="disk full"):
        save_network(good_file, other)
    monkeypatch.undo()
    assert good_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npz"]
    loaded = load_network(good_file)
    assert loaded.seed == 1
