"""Atomic file output: write beside the target, then rename over it, so a failure never leaves a half file
and never touches the file that was there before; and the check that an output path can be written.

A failed write of our own (full disk, read-only folder, quota) is a UserError naming the file and saying the
previous one is unchanged; an exception raised by the caller's code inside the block passes through as it was.
`check_input_file` is the matching check on the way in: a file a user hands us is a regular, bounded file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from seqlab.errors import UserError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_input_file(path: str | os.PathLike, expected: str, kind: str, max_bytes: int,
                     allow_empty: bool = True) -> Path:
    """`path` as a Path once it is a regular file of at most `max_bytes` (and not empty unless `allow_empty`);
    otherwise a UserError naming it and what was `expected` ("a MIDI file (.mid)"; `kind`, "a MIDI file", is
    what the size limit speaks of). Directories, devices and pipes are refused before anything is read."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p} is a directory; expected {expected}")
    if not p.exists():
        raise UserError(f"{p}: no such file; expected {expected}")
    if not p.is_file():
        raise UserError(f"{p} is not a regular file; expected {expected}")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if size == 0 and not allow_empty:
        raise UserError(f"{p} is empty; expected {expected}")
    if size > max_bytes:
        raise UserError(f"{p} is {size:,} bytes; expected {kind} of at most {max_bytes:,}")
    return p


def cannot_write(path: str | os.PathLike, exc: OSError) -> UserError:
    """The one-line error for a write to `path` that failed with `exc`."""
    had = Path(path).exists()
    return UserError(f"cannot write {path}: {exc.strerror or exc}"
                     f"{' (the previous file is unchanged)' if had else ' (nothing was written)'}")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = ".tmp"):
    """`with atomic_output(path) as f:` yields a binary file in path's folder; on a clean exit it is synced,
    given the usual permissions (0666 less the umask) and renamed to `path`; on an error it is removed."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            try:
                f.flush()
                os.fsync(f.fileno())
            except OSError as exc:
                raise cannot_write(path, exc) from None
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private
            os.replace(tmp, path)
        except OSError as exc:
            raise cannot_write(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_output(path) as f:
        try:
            f.write(data)
        except OSError as exc:
            raise cannot_write(path, exc) from None
    return Path(path)


# What seqlab's figures, pages and audio begin with: a file of one of these kinds may be replaced by a new one
# of its kind; a user's other file of the same name is left as it is (check_output_file).
_KINDS = {
    ".png": ("a PNG image", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ".svg": ("an SVG image", lambda head: b"<svg" in head),
    ".html": ("an HTML page", lambda head: head.lstrip().lower().startswith((b"<!doctype html", b"<html"))),
    ".htm": ("an HTML page", lambda head: head.lstrip().lower().startswith((b"<!doctype html", b"<html"))),
    ".wav": ("a WAV file", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WAVE"),
}


def check_output_by_suffix(path: Path, flag: str, *, reads=(), beside: str | None = None) -> None:
    """check_output_file for a figure, page or sound named by its suffix (.png, .svg, .html, .wav).
    beside: the output whose name this file's comes from ("-o solo.mid" for solo.wav), named in the error."""
    kind, test = _KINDS[path.suffix.lower()]

    def replaceable(p: Path) -> bool:
        with open(p, "rb") as f:
            return test(f.read(1024))
    if beside is not None and path.is_file() and path.stat().st_size and not replaceable(path):
        raise UserError(f"{flag} {path}, written beside {beside}, exists and is not {kind}, so it is left as it "
                        f"is; expected another name for {beside}, or that file moved away")
    check_output_file(path, flag, f"out{path.suffix}", reads=reads, replaceable=replaceable, kind=kind)


def check_output_file(path: Path, flag: str = "-o", example: str = "model.npz", *, reads=(),
                      replaceable=None, kind: str = "") -> None:
    """UserError unless `path` names a file that can be written: not a folder, in a folder that exists and
    is writable (checked before any work, so a long run does not fail at its end); not one of the files the
    command `reads`; and, where it exists and is not empty, a file that `replaceable(path)` says is `kind`
    (a seqlab checkpoint, a MIDI file): a user's other file is never written over."""
    if path.is_dir():
        raise UserError(f"{flag} {path} is a directory; expected a file name like {example}")
    if path.exists() and any(s is not None and Path(s).exists() and os.path.samefile(path, s) for s in reads):
        raise UserError(f"{flag} {path} is also a file this command reads; expected another file name, "
                        f"like {example}")
    if replaceable is not None and path.is_file() and path.stat().st_size and not replaceable(path):
        raise UserError(f"{flag} {path} exists and is not {kind}, so it is left as it is; expected a new file "
                        f"name, like {example}, or {kind} to replace")
    if not path.parent.is_dir():
        raise UserError(f"{flag} {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise UserError(f"{flag} {path}: folder {path.parent} is not writable")
    try:  # what access() can't see: a read-only file system, a full quota, root on a special folder
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as exc:
        raise UserError(f"{flag} {path}: folder {path.parent} is not writable ({exc.strerror or exc})") from None
