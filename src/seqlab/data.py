"""The dataset registry: what each course data file is, where to get it, and the local cache that holds it.

The project ships none of the data. `fetch` downloads a file from its public URL, `import_files` copies a local
copy in; both verify the sha256 first, so a file in the cache is always the exact bytes the course used.
The cache is `$SEQLAB_HOME`, or `~/.cache/seqlab` when that is unset.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from seqlab.errors import UserError
from seqlab.fileio import atomic_output, cannot_write

_COURSE = "amanchadha/coursera-deep-learning-specialization/master/C5%20-%20Sequence%20Models/Week%201"
_DINO_DIR = f"{_COURSE}/Dinosaur%20Island%20--%20Character-level%20language%20model"
_MEDIA = "https://media.githubusercontent.com/media"
_RAW = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class Dataset:
    """One registered file: its cache name, exact size and sha256, and where it can be downloaded."""

    name: str
    filename: str
    size: int
    sha256: str
    urls: tuple[str, ...]
    description: str


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("dinos", "dinos.txt", 19_909,
            "ad6465621cf56c08f71d4fbb40cf7eab763f9df42c54cc460d6c4d86e9c927fb",
            (f"{_MEDIA}/{_DINO_DIR}/dinos.txt",),
            "1,536 dinosaur genus names, one a line"),
    Dataset("shakespeare", "shakespeare.txt", 94_275,
            "1b454b67b44e6f367c83a17ed295c46c5d4a1173cf5d09161882af4041bae023",
            (f"{_MEDIA}/{_DINO_DIR}/shakespeare.txt",),
            "Shakespeare's sonnets, plain text"),
    Dataset("metheny", "original_metheny.mid", 92_549,
            "0da8322ceab36b036682b5ece0c315193f7b701a3340a0ca5a523b107c6f428d",
            (f"{_RAW}/{_COURSE}/Jazz%20improvisation%20with%20LSTM/data/original_metheny.mid",),
            'Pat Metheny, "And Then I Knew", MIDI'),
    Dataset("shakespeare-keras", "model_shakespeare_kiank_350_epoch.h5", 2_692_856,
            "a73e515af2522f884bd057fec1e0f854b9bf47ea17711aa63559af9813e6b7fb",
            (f"{_MEDIA}/{_DINO_DIR}/models/model_shakespeare_kiank_350_epoch.h5",),
            "the course's pretrained Keras poem-writer model"),
    Dataset("tinyshakespeare", "tinyshakespeare.txt", 1_115_394,
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            (f"{_RAW}/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
            "tiny shakespeare: 40,000 lines of the plays (char-rnn, nanoGPT)"),
)}


def cache_dir() -> Path:
    """The folder that holds the datasets: $SEQLAB_HOME, else ~/.cache/seqlab (not created here)."""
    home = os.environ.get("SEQLAB_HOME")
    return Path(home).expanduser() if home else Path.home() / ".cache" / "seqlab"


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dataset(name: str) -> Dataset:
    """The registry entry for `name`; UserError listing the known names when unknown."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UserError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}") from None


def _how_to_get(ds: Dataset) -> str:
    return f"run `seqlab data fetch {ds.name}` or `seqlab data import PATH/{ds.filename}`"


def _cached(ds: Dataset) -> Path:
    return cache_dir() / ds.filename


def is_present(name: str) -> bool:
    """Whether the dataset is in the cache with the right bytes (size and sha256)."""
    ds = dataset(name)
    p = _cached(ds)
    return p.is_file() and p.stat().st_size == ds.size and sha256_file(p) == ds.sha256


def path(name: str) -> Path:
    """The verified cached file of dataset `name`; UserError saying how to get it when absent or wrong."""
    ds = dataset(name)
    p = _cached(ds)
    if not p.is_file():
        raise UserError(f"dataset {name!r} is not in {cache_dir()}: {_how_to_get(ds)}")
    actual = sha256_file(p)
    if actual != ds.sha256:
        raise UserError(f"{p} has sha256 {actual}, expected {ds.sha256}: {_how_to_get(ds)}")
    return p


def _install(src: Path | None, data_source, ds: Dataset) -> Path:
    """Copy bytes into the cache atomically: temp file beside the target, verify, then os.replace.

    `data_source` is a readable binary file object; `src` only names it in messages.
    """
    target = _cached(ds)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the dataset folder {target.parent}: {exc.strerror or exc}") from None
    with atomic_output(target, suffix=".part") as out:
        h = hashlib.sha256()
        for block in iter(lambda: data_source.read(1 << 20), b""):
            h.update(block)
            try:
                out.write(block)
            except OSError as exc:
                raise cannot_write(target, exc) from None
        if h.hexdigest() != ds.sha256:
            raise UserError(f"{src} is not the expected {ds.filename}: sha256 {h.hexdigest()}, "
                            f"expected {ds.sha256}")
    return target


def fetch(name: str, timeout: float = 60.0) -> Path:
    """Download dataset `name` into the cache (verified); offline -> UserError saying how to import a copy."""
    ds = dataset(name)
    errors = []
    for url in ds.urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return _install(url, response, ds)
        except (urllib.error.URLError, OSError) as exc:  # HTTPError and timeouts are subclasses
            errors.append(f"{getattr(exc, 'reason', None) or exc}")
    raise UserError(f"could not download {ds.filename} ({'; '.join(errors)}); if you have a local copy, "
                    f"run `seqlab data import PATH/{ds.filename}`")


def _identify(p: Path) -> tuple[Dataset, str]:
    """The dataset a local file is (by checksum first, then by file name) and its sha256."""
    try:
        digest = sha256_file(p)
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc.strerror or exc})") from None
    for ds in DATASETS.values():
        if ds.sha256 == digest:
            return ds, digest
    for ds in DATASETS.values():
        if ds.filename == p.name:
            raise UserError(f"{p} is not the expected {ds.filename}: sha256 {digest}, expected {ds.sha256}")
    names = ", ".join(ds.filename for ds in DATASETS.values())
    raise UserError(f"{p} matches no known dataset (sha256 {digest}); known files: {names}")


def import_files(paths) -> list[Path]:
    """Copy local dataset files into the cache after verifying each; returns the cached paths.

    Every file is checked before any is copied, so one wrong file imports nothing.
    """
    found = []
    for raw in paths:
        p = Path(raw)
        if not p.is_file():
            raise UserError(f"{p} is not a file; expected one of: "
                            f"{', '.join(ds.filename for ds in DATASETS.values())}")
        found.append((p, *_identify(p)))
    out = []
    for p, ds, _ in found:
        try:
            f = open(p, "rb")
        except OSError as exc:
            raise UserError(f"{p}: cannot read ({exc.strerror or exc})") from None
        with f:
            out.append(_install(p, f, ds))
    return out


def resolve_corpus(name_or_path: str | os.PathLike, suffix: str | None = None) -> Path:
    """A registered dataset name -> its verified cached file; otherwise an existing path.

    With `suffix` (jazz asks for ".mid"), only the datasets whose files end so are names here, and the
    errors list just those."""
    names = [n for n, d in DATASETS.items() if suffix is None or d.filename.endswith(suffix)]
    expected = f"expected a file or a dataset name ({', '.join(names)})"
    if isinstance(name_or_path, str) and name_or_path in DATASETS:
        if name_or_path in names:
            return path(name_or_path)
        raise UserError(f"{name_or_path}: that dataset's file, {DATASETS[name_or_path].filename}, is not a "
                        f"{suffix} file; {expected}")
    p = Path(name_or_path)
    if not p.exists():
        raise UserError(f"{p}: no such file (it does not exist); {expected}")
    return p
