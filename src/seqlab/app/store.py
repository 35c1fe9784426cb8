"""The playground's models: the seqlab text models in its folders, addressed by name only.

A name is the file's stem (`dinos` for dinos.npz) and must be one the listing holds, so a request can never
reach outside the folders (`../x` or `/etc/passwd` are just unknown names). Loaded models are cached by path,
size and modification time; a file that changes is read again.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from seqlab.checkpoint import TEXT_KIND, load_checkpoint
from seqlab.errors import UserError
from seqlab.text.model import load_model

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Entry:
    """One model file: name, path, and what the Models panel shows of it."""

    name: str
    path: Path
    info: dict


def describe(meta: dict, arrays: dict) -> dict:
    """The settings and held-out score of a text checkpoint, from its metadata (JSON-able)."""
    cfg = meta.get("config", {})
    train = meta.get("train", {})
    held = meta.get("heldout") or {}
    best = train.get("model") or train.get("best") or {}   # model: what the file's parameters score
    score = held.get("nats_per_char", best.get("nats_per_char"))
    params = sum(int(a.size) for k, a in arrays.items() if k.startswith("model."))
    # The step the parameters come from: a run keeps its best evaluation's, not always its last step's
    # (validation: the bundled models' record; train.model: a seqlab train run's; neither: the last step).
    weights_step = (meta.get("validation") or {}).get("step", (train.get("model") or {}).get("step"))
    return {
        "mode": meta.get("mode"), "cell": cfg.get("cell"), "hidden": cfg.get("hidden"),
        "layers": cfg.get("layers"), "embed": cfg.get("embed"), "dropout": cfg.get("dropout"),
        "vocab_size": cfg.get("vocab_size"), "vocabulary": (meta.get("vocab") or {}).get("chars", ""),
        "parameters": params, "step": meta.get("step"),
        "weights_step": meta.get("step") if weights_step is None else weights_step,
        "lower": (meta.get("normalize") or {}).get("lower"),
        "heldout_nats_per_char": score,
        "heldout_source": "held-out file" if "nats_per_char" in held else
                          ("held-out split" if score is not None else None),
        "source": "bundled" if meta.get("bundled") else ("trained" if train else "exported"),
    }


class ModelStore:
    """Text models in `folders` (the first holding a name wins); new ones are written to `writable`."""

    def __init__(self, folders: list[Path], writable: Path):
        self.folders = [Path(f) for f in folders]
        self.writable = Path(writable)
        self._lock = threading.Lock()
        self._loading = threading.Lock()   # one load at a time: simultaneous requests share the first one's
        self._info: dict[Path, tuple[tuple, dict | None]] = {}    # path -> (stamp, info or None)
        self._models: dict[Path, tuple[tuple, object]] = {}

    @staticmethod
    def _stamp(path: Path) -> tuple:
        st = path.stat()
        return st.st_size, st.st_mtime_ns

    def _read_info(self, path: Path) -> dict | str | None:
        """The description of a text checkpoint; None for another kind of model (the jazz one); for a file
        that cannot be read, why (one line, "the file" for its name)."""

        stamp = self._stamp(path)
        with self._lock:
            cached = self._info.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            arrays, meta = load_checkpoint(path)
            info = describe(meta, arrays) if meta.get("kind") == TEXT_KIND else None
        except UserError as exc:
            info = str(exc).replace(str(path), "the file")   # listed under its name: said once, no server path
        with self._lock:
            self._info[path] = (stamp, info)
        return info

    def entries(self) -> list[Entry]:
        """Every text model, sorted by name (files that are not text models are left out)."""
        return self.listing()[0]

    def listing(self) -> tuple[list[Entry], list[dict]]:
        """(entries, skipped): the text models, and the .npz files left out that a user may have meant as
        models, {file, why} each (a jazz model is not among them)."""
        found: dict[str, Entry] = {}
        skipped = []
        for folder in self.folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.npz")):
                name = path.stem
                if name in found or not path.is_file():
                    continue
                if not NAME.match(name):
                    skipped.append({"file": path.name, "why": "its name is not a model name (letters, digits, "
                                                              "'-' and '_', starting with a letter or digit)"})
                    continue
                try:
                    info = self._read_info(path)
                except OSError as exc:
                    info = f"cannot read the file ({exc.strerror or exc})"
                if isinstance(info, str):
                    skipped.append({"file": path.name, "why": info})
                elif info is not None:
                    found[name] = Entry(name, path, info)
        return [found[k] for k in sorted(found)], skipped

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def entry(self, name: str) -> Entry:
        """The entry called `name`; UserError naming the choices otherwise."""
        for e in self.entries():
            if e.name == name:
                return e
        raise UserError(f"unknown model {name!r}; expected one of: {', '.join(self.names()) or 'none'}")

    def load(self, name: str):
        """The LanguageModel called `name` (cached while its file is unchanged)."""

        path = self.entry(name).path
        with self._loading:
            stamp = self._stamp(path)
            cached = self._models.get(path)
            if cached and cached[0] == stamp:
                return cached[1]
            lm = load_model(path)
            self._models[path] = (stamp, lm)
            return lm

    def free_name(self, wanted: str) -> str:
        """`wanted` if no model has that name yet, else wanted-2, wanted-3, ..."""
        taken = set(self.names()) | {p.stem for p in self.writable.glob("*.npz")}
        name, k = wanted, 2
        while name in taken:
            name, k = f"{wanted[:58]}-{k}", k + 1
        return name
