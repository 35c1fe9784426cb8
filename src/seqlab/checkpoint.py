"""One-file checkpoints: named arrays plus JSON metadata in an .npz, written atomically and verified on load.

The file is an ordinary .npz (a zip of .npy members, no pickles) with one extra member, `__meta__`: UTF-8 JSON
as a uint8 array. The metadata records `format`, `format_version` and `sha256`, a digest over every array
(name, dtype, shape, bytes, in sorted name order) and the rest of the metadata, so a truncated, tampered or
foreign file is refused with a message instead of loading wrong numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

from seqlab.errors import UserError
from seqlab.fileio import atomic_output, cannot_write

FORMAT = "seqlab-checkpoint"
FORMAT_VERSION = 1
META_KEY = "__meta__"
# The "kind" in the metadata of what seqlab writes: a character model (seqlab.text), a jazz model (seqlab.music)
TEXT_KIND, JAZZ_KIND = "char-model", "seqlab-jazz"
_RESERVED = ("format", "format_version", "sha256")
# The checkpoints shipped with the package (seqlab/pretrained/<name>.npz; `make models` rebuilds them)
BUNDLED_DIR = Path(__file__).resolve().parent / "pretrained"


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
    written beside `path` and renamed over it, so on any error the old file is left as it was; a failed
    write (full disk, unwritable folder) is a UserError saying so.
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
        try:
            # What np.savez writes, done by hand so names like "file" can't clash with its keywords.
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name, a in members.items():
                    with zf.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asanyarray(a), allow_pickle=False)
        except OSError as exc:  # a full disk, a quota: the old file stays as it was
            raise cannot_write(path, exc) from None


MAX_HEADER = 10_000      # bytes of an .npy member's header (numpy's own default limit)


def _read_members(path: Path, refuse) -> dict[str, np.ndarray]:
    """Every .npy member of the zip at `path`, by name without ".npy", read without ever unpickling and
    without trusting a declared size: memory used is bounded by the file's size."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(b"\x93NUMPY"):
        raise refuse("is not a seqlab checkpoint (a single .npy array, not an .npz archive)")
    if not head.startswith(b"PK"):
        raise refuse("is not a seqlab checkpoint (not an .npz archive)")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError, IndexError,
            NotImplementedError, UnicodeDecodeError, struct.error):
        raise refuse("is truncated or corrupt (not a readable zip archive)") from None
    out: dict[str, np.ndarray] = {}
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise refuse("is corrupt (an archive member appears twice)")
        claimed = sum(i.file_size for i in infos)
        if any(i.compress_type != zipfile.ZIP_STORED or i.file_size != i.compress_size for i in infos) \
                or claimed > size:
            # seqlab writes members uncompressed, so no member can be larger than the file: a zip bomb
            # or a foreign archive, refused before a byte of it is inflated
            raise refuse(f"is not a seqlab checkpoint (its members claim {claimed:,} bytes in a "
                         f"{size:,}-byte file, or are compressed; seqlab stores them uncompressed)")
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise refuse(f"is not a seqlab checkpoint (member {info.filename!r} is not an .npy array)")
            try:
                out[info.filename[:-4]] = _read_npy(zf, info, refuse)
            except UserError:
                raise
            except Exception as exc:  # damaged data fails in many ways (CRC, EOF, header parsing)
                raise refuse(f"is truncated or corrupt ({type(exc).__name__} in {info.filename})") from None
    return out


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, refuse) -> np.ndarray:
    """One .npy member: header checked (no objects, size matching the member) before the data is read."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=MAX_HEADER)
        else:
            raise refuse(f"is not a seqlab checkpoint (.npy format version {version} in {info.filename})")
        if dtype.hasobject:
            raise refuse("holds pickled objects, which a seqlab checkpoint never has")
        if any(n < 0 for n in shape):
            raise refuse(f"is corrupt (negative shape {shape} in {info.filename})")
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes != info.file_size - f.tell():
            raise refuse(f"is truncated or corrupt ({info.filename} declares {nbytes:,} bytes of data, "
                         f"holds {info.file_size - f.tell():,})")
        data = bytearray(nbytes)
        if f.readinto(data) != nbytes or f.read(1):  # reading to the end also checks the CRC
            raise refuse(f"is truncated or corrupt ({info.filename} is cut short)")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether `path` looks like a file `save_checkpoint` wrote (a zip holding the metadata entry); cheap,
    for deciding whether a file may be replaced, not whether it loads."""
    try:
        with zipfile.ZipFile(path) as zf:
            return f"{META_KEY}.npy" in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) from a checkpoint written by `save_checkpoint`; UserError naming the file otherwise.

    Never unpickles, and checks every size an archive declares before reading, so a hostile file costs at
    most its own size in memory.
    """
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a seqlab checkpoint")
    if not path.exists():
        raise UserError(f"{path}: no such checkpoint file")
    if not path.is_file():
        raise UserError(f"{path} is not a regular file; expected a seqlab checkpoint (.npz)")
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty, not a seqlab checkpoint")

    def refuse(problem: str) -> UserError:
        return UserError(f"{path} {problem}")

    try:
        members = _read_members(path, refuse)
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    if META_KEY not in members:
        raise refuse("is not a seqlab checkpoint (an .npz without seqlab metadata)")
    raw = members.pop(META_KEY)
    arrays = members
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise refuse("is not a seqlab checkpoint (bad metadata entry)")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise refuse("has corrupt metadata (not UTF-8 JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise refuse(f"is not a seqlab checkpoint (format is not {FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise refuse("has no valid format_version")
    if version > FORMAT_VERSION:
        raise refuse(f"has format version {version}, newer than this seqlab reads ({FORMAT_VERSION}); "
                     f"upgrade seqlab")
    try:
        digest = _digest(arrays, meta)
    except (TypeError, ValueError, RecursionError):
        raise refuse("has corrupt metadata") from None
    if meta.get("sha256") != digest:
        raise refuse("does not match its checksum: it was modified or damaged")
    return arrays, meta


def finite_or_refuse(arrays: dict[str, np.ndarray], source, what: str = "parameter") -> None:
    """UserError naming the first floating-point array of `arrays` holding NaN or inf."""
    for name, a in arrays.items():
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            bad = int(np.count_nonzero(~np.isfinite(a)))
            raise UserError(f"{source} has a non-finite {what} ({name}: {bad} NaN/inf value(s)); the run that "
                            f"wrote it diverged: retrain with a lower --lr or gradient clipping")
