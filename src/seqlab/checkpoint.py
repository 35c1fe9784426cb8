"""One-file checkpoints: named arrays plus JSON metadata in an .npz, written atomically and verified on load.

The file is an ordinary .npz (a zip of .npy members, no pickles) with one extra member, `__meta__`: UTF-8 JSON
as a uint8 array. The metadata records `format`, `format_version` and `sha256`, a digest over every array
(name, dtype, shape, bytes, in sorted name order) and the rest of the metadata, so a truncated, tampered or
foreign file is refused with a message instead of loading wrong numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from seqlab.errors import UserError
from seqlab.fileio import atomic_output

FORMAT = "seqlab-checkpoint"
FORMAT_VERSION = 1
META_KEY = "__meta__"
_RESERVED = ("format", "format_version", "sha256")


def _canonical(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=True).encode("utf-8")


def _digest(arrays: dict[str, np.ndarray], meta: dict) -> str:
    """sha256 over the arrays (sorted by name) and the metadata other than the digest itself."""
    h = hashlib.sha256()

    def field(b: bytes) -> None:  # length-prefixed, so field boundaries can't be shifted
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)

    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        field(name.encode("utf-8"))
        field(a.dtype.str.encode("ascii"))
        field(repr(tuple(a.shape)).encode("ascii"))
        field(a.tobytes())
    field(_canonical({k: v for k, v in meta.items() if k != "sha256"}))
    return h.hexdigest()


def save_checkpoint(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write `arrays` (name -> ndarray of any shape, numeric/bool dtype) and JSON-able `meta` to `path`.

    `format`, `format_version` and `sha256` in `meta` are replaced by this writer's. Atomic: the file is
    written beside `path` and renamed over it, so on any error the old file is left as it was.
    """
    if not isinstance(meta, dict):
        raise TypeError(f"meta: expected a dict, got {type(meta).__name__}")
    arrays = {k: np.asarray(v) if isinstance(v, np.generic) else v for k, v in arrays.items()}
    for name, a in arrays.items():
        if not isinstance(name, str) or not name or name == META_KEY:
            raise ValueError(f"arrays: bad array name {name!r} (non-empty str, not {META_KEY!r})")
        if not isinstance(a, np.ndarray) or a.dtype.hasobject:
            raise TypeError(f"arrays[{name!r}]: expected a numeric ndarray, got {type(a).__name__}"
                            f"{' of objects' if isinstance(a, np.ndarray) else ''}")
    full = {k: v for k, v in meta.items() if k not in _RESERVED}
    full.update(format=FORMAT, format_version=FORMAT_VERSION)
    try:
        _canonical(full)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"meta: expected JSON-serialisable values ({exc})") from None
    full["sha256"] = _digest(arrays, full)
    members = {**arrays, META_KEY: np.frombuffer(_canonical(full), dtype=np.uint8)}

    path = Path(path)
    with atomic_output(path) as f:
        # What np.savez writes, done by hand so names like "file" can't clash with its keywords.
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, a in members.items():
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(a), allow_pickle=False)


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) from a checkpoint written by `save_checkpoint`; UserError naming the file otherwise."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a seqlab checkpoint")
    if not path.exists():
        raise UserError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty, not a seqlab checkpoint")

    def refuse(problem: str) -> UserError:
        return UserError(f"{path} {problem}")

    try:
        npz = np.load(path, allow_pickle=False)
    except zipfile.BadZipFile:  # starts like a zip but its directory is missing: cut short
        raise refuse("is truncated or corrupt (not a readable zip archive)") from None
    except (ValueError, EOFError, OSError):  # neither .npz nor .npy (np.load takes it for a pickle)
        raise refuse("is not a seqlab checkpoint (not an .npz archive)") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise refuse("is not a seqlab checkpoint (a single .npy array, not an .npz archive)")
    with npz:
        if META_KEY not in npz.files:
            raise refuse("is not a seqlab checkpoint (an .npz without seqlab metadata)")
        try:
            raw = npz[META_KEY]
            arrays = {name: npz[name] for name in npz.files if name != META_KEY}
        except Exception as exc:  # a damaged member fails in many ways (zlib, CRC, EOF, header parsing)
            if isinstance(exc, ValueError) and "allow_pickle" in str(exc):
                raise refuse("holds pickled objects, which a seqlab checkpoint never has") from None
            raise refuse(f"is truncated or corrupt ({type(exc).__name__}: {exc})") from None
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise refuse("is not a seqlab checkpoint (bad metadata entry)")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise refuse("has corrupt metadata (not UTF-8 JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise refuse(f"is not a seqlab checkpoint (format is not {FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise refuse("has no valid format_version")
    if version > FORMAT_VERSION:
        raise refuse(f"has format version {version}, newer than this seqlab reads ({FORMAT_VERSION}); "
                     f"upgrade seqlab")
    if meta.get("sha256") != _digest(arrays, meta):
        raise refuse("does not match its checksum: it was modified or damaged")
    return arrays, meta
