"""Atomic output: all or nothing, and ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from seqlab.fileio import atomic_output, write_bytes_atomic


def test_written_file_has_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_bytes_atomic(tmp_path / "out.bin", b"abc")
    finally:
        os.umask(old)
    assert p.read_bytes() == b"abc"
    assert stat.S_IMODE(p.stat().st_mode) == 0o644
    assert [f.name for f in tmp_path.iterdir()] == ["out.bin"]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    p = tmp_path / "model.npz"
    p.write_bytes(b"good")
    with pytest.raises(RuntimeError):
        with atomic_output(p) as f:
            f.write(b"half")
            raise RuntimeError("disk full")
    assert p.read_bytes() == b"good"
    assert [f.name for f in tmp_path.iterdir()] == ["model.npz"]
