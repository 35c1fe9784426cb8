"""One-file checkpoints: exact round trips, atomic writes, and refusal of damaged or foreign files."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from seqlab import checkpoint
from seqlab.checkpoint import load_checkpoint, save_checkpoint
from seqlab.errors import UserError


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "layer0/W_x": rng.standard_normal((5, 12)).astype(np.float32),
        "b": rng.standard_normal(12),
        "ids": np.arange(7, dtype=np.int64),
        "mask": np.array([True, False]),
        "step": np.array(41),
        "empty": np.zeros((0, 3), np.float32),
        "file": np.ones(2),  # would clash with np.savez's own keyword
    }


META = {"model": {"cell": "lstm", "hidden": 8}, "vocab": {"chars": "\nabcé"}, "step": 41, "loss": float("nan")}


def _write_raw(path, members: dict, meta: dict | None):
    """An .npz laid out as np.savez does, with `meta` (if any) as the __meta__ entry; pickles allowed."""
    if meta is not None:
        members = {**members, "__meta__": np.frombuffer(json.dumps(meta).encode(), np.uint8)}
    with zipfile.ZipFile(path, "w") as zf:
        for name, a in members.items():
            with zf.open(name + ".npy", "w") as f:
                np.lib.format.write_array(f, np.asanyarray(a), allow_pickle=True)


def test_round_trip_is_exact(tmp_path):
    p = tmp_path / "m.npz"
    save_checkpoint(p, _arrays(), META)
    arrays, meta = load_checkpoint(p)
    assert arrays.keys() == _arrays().keys()
    for name, a in _arrays().items():
        assert arrays[name].dtype == a.dtype and arrays[name].shape == a.shape
        np.testing.assert_array_equal(arrays[name], a)
    assert meta["format"] == "seqlab-checkpoint" and meta["format_version"] == 1
    assert meta["model"] == META["model"] and meta["vocab"] == META["vocab"] and np.isnan(meta["loss"])
    assert [q.name for q in tmp_path.iterdir()] == ["m.npz"]  # no temporary left
    # Saving what was loaded works: the reserved keys are recomputed, not refused.
    save_checkpoint(p, arrays, meta)
    assert load_checkpoint(p)[1]["sha256"] == meta["sha256"]


def test_is_a_plain_npz_without_pickles(tmp_path):
    p = tmp_path / "m.npz"
    save_checkpoint(p, _arrays(), META)
    with np.load(p, allow_pickle=False) as npz:
        assert set(npz.files) == set(_arrays()) | {"__meta__"}


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_is_refused(tmp_path, keep):
    p = tmp_path / "m.npz"
    save_checkpoint(p, _arrays(), META)
    blob = p.read_bytes()
    p.write_bytes(blob[: int(len(blob) * keep)])
    with pytest.raises(UserError, match="truncated or corrupt") as exc:
        load_checkpoint(p)
    assert str(p) in str(exc.value)


def test_corrupted_bytes_are_refused(tmp_path):
    p = tmp_path / "m.npz"
    save_checkpoint(p, {"w": np.zeros(1000)}, META)
    blob = bytearray(p.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # inside the array data: the zip CRC check catches it
    p.write_bytes(bytes(blob))
    with pytest.raises(UserError, match="corrupt|checksum"):
        load_checkpoint(p)


def test_foreign_files_are_refused(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.zeros(3))
    with pytest.raises(UserError, match="without seqlab metadata"):
        load_checkpoint(foreign)

    other_meta = tmp_path / "other.npz"
    _write_raw(other_meta, {"w": np.zeros(3)}, {"format": "someone-else"})
    with pytest.raises(UserError, match="not a seqlab checkpoint"):
        load_checkpoint(other_meta)

    noise = tmp_path / "noise.npz"
    noise.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(UserError, match="not an .npz archive"):
        load_checkpoint(noise)

    npy = tmp_path / "single.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(UserError, match="single .npy array"):
        load_checkpoint(npy)

    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(UserError, match="is empty"):
        load_checkpoint(tmp_path / "empty.npz")
    with pytest.raises(UserError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.npz")


def test_pickled_member_is_refused(tmp_path):
    p = tmp_path / "evil.npz"
    _write_raw(p, {"w": np.array([{"x": 1}], dtype=object)},
               {"format": "seqlab-checkpoint", "format_version": 1})
    with pytest.raises(UserError, match="pickled objects") as exc:
        load_checkpoint(p)
    assert str(p) in str(exc.value)


def test_tampered_array_or_metadata_is_refused(tmp_path):
    p = tmp_path / "m.npz"
    save_checkpoint(p, _arrays(), META)
    arrays, meta = load_checkpoint(p)

    arrays["b"][3] += 1e-6  # rewrite with one number changed and the old metadata
    _write_raw(p, arrays, meta)
    with pytest.raises(UserError, match="does not match its checksum"):
        load_checkpoint(p)

    arrays["b"][3] -= 1e-6
    _write_raw(p, arrays, {**meta, "step": 42})
    with pytest.raises(UserError, match="does not match its checksum"):
        load_checkpoint(p)

    _write_raw(p, arrays, meta)  # the untouched content loads again
    assert load_checkpoint(p)[1]["step"] == 41


def test_newer_format_version_is_refused(tmp_path):
    p = tmp_path / "m.npz"
    _write_raw(p, {"w": np.zeros(2)}, {"format": "seqlab-checkpoint", "format_version": 2})
    with pytest.raises(UserError, match="format version 2.*upgrade seqlab"):
        load_checkpoint(p)


def test_failed_save_leaves_old_file_untouched(tmp_path, monkeypatch):
    p = tmp_path / "good.npz"
    save_checkpoint(p, _arrays(), META)
    before = p.read_bytes()

    calls = []

    def failing_write(fp, array, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # fail part-way, after some members were written
            raise OSError("disk full")
        return real_write(fp, array, **kwargs)

    real_write = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(UserError, match="cannot write .*good.npz: disk full .the previous file is unchanged"):
        save_checkpoint(p, {k: v * 2 for k, v in _arrays().items() if v.dtype != bool}, {"step": 99})
    monkeypatch.undo()

    assert p.read_bytes() == before
    assert [q.name for q in tmp_path.iterdir()] == ["good.npz"]
    assert load_checkpoint(p)[1]["step"] == 41


def test_bad_arguments_write_nothing(tmp_path):
    p = tmp_path / "m.npz"
    with pytest.raises(TypeError, match="objects"):
        save_checkpoint(p, {"w": np.array([None])}, {})
    with pytest.raises(TypeError, match="JSON"):
        save_checkpoint(p, {"w": np.zeros(1)}, {"x": object()})
    with pytest.raises(ValueError, match="__meta__"):
        save_checkpoint(p, {"__meta__": np.zeros(1)}, {})
    assert list(tmp_path.iterdir()) == []


def test_digest_covers_dtype_and_shape():
    a = {"w": np.zeros(4, np.float32)}
    assert checkpoint._digest(a, {}) != checkpoint._digest({"w": np.zeros((2, 2), np.float32)}, {})
    assert checkpoint._digest(a, {}) != checkpoint._digest({"w": np.zeros(4, np.int32)}, {})
