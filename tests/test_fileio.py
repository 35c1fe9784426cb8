"""Atomic output: all or nothing, and ordinary permissions."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from seqlab.checkpoint import is_checkpoint, save_checkpoint
from seqlab.errors import UserError
from seqlab.fileio import atomic_output, check_output_by_suffix, check_output_file, write_bytes_atomic


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


def test_an_output_that_is_also_an_input_is_refused(tmp_path):
    corpus = tmp_path / "names.txt"
    corpus.write_text("ab\n")
    with pytest.raises(UserError, match="-o .*names.txt is also a file this command reads"):
        check_output_file(corpus, reads=(None, "dinos", tmp_path / "absent.txt", corpus))
    link = tmp_path / "link.txt"
    link.symlink_to(corpus)
    with pytest.raises(UserError, match="is also a file this command reads"):   # the same file by another name
        check_output_file(link, reads=(corpus,))
    check_output_file(tmp_path / "model.npz", reads=(corpus,))                   # a new name is fine


def test_only_files_of_the_kind_written_are_replaced(tmp_path):
    notes, empty, model = tmp_path / "notes.txt", tmp_path / "empty", tmp_path / "old.npz"
    notes.write_text("my notes\n")
    empty.write_bytes(b"")
    save_checkpoint(model, {"w": np.zeros(2)}, {"kind": "test"})
    assert is_checkpoint(model) and not is_checkpoint(notes) and not is_checkpoint(tmp_path / "absent")
    with pytest.raises(UserError, match="notes.txt exists and is not a seqlab checkpoint, so it is left as it is"):
        check_output_file(notes, replaceable=is_checkpoint, kind="a seqlab checkpoint")
    for ok in (model, empty, tmp_path / "new.npz"):
        check_output_file(ok, replaceable=is_checkpoint, kind="a seqlab checkpoint")
    assert notes.read_text() == "my notes\n"



@pytest.mark.parametrize("name, head", [
    ("a.png", b"\x89PNG\r\n\x1a\n\0\0"), ("a.svg", b'<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg xmlns="x">'),
    ("a.html", b"\n<!DOCTYPE html>\n<html>"), ("a.htm", b"<HTML><body>"), ("a.wav", b"RIFF\0\0\0\0WAVEfmt "),
])
def test_a_figure_page_or_sound_of_its_kind_is_replaceable_and_nothing_else(tmp_path, name, head):
    path = tmp_path / name
    path.write_bytes(head)
    check_output_by_suffix(path, "-o")                      # seqlab's own earlier output: replaced
    path.write_bytes(b"my notes\n")
    with pytest.raises(UserError, match=f"-o .*{name} exists and is not an? "):
        check_output_by_suffix(path, "-o")
    with pytest.raises(UserError, match=f"{name}, written beside -o x, exists"):
        check_output_by_suffix(path, "--wav", beside="-o x")
    (tmp_path / "empty.png").write_bytes(b"")
    check_output_by_suffix(tmp_path / "empty.png", "-o")    # an empty file holds nothing to lose
