"""The Jazz panel: improvise a solo over typed or built-in changes, render it on the server (WAV, piano-roll
PNG, MIDI) and serve the files. The music is `seqlab.music.perform`'s, the same call as `seqlab jazz`.

POST /api/jazz                 {chords, changes, choruses, bpm, instrument, swing, temperature, seed}
                               -> {id, wav, png, midi, figures...}
GET  /api/jazz/{id}/solo.{ext} the rendered files (the last SOLOS_KEPT solos are kept), byte ranges too
GET  /api/changes              the built-in progressions and the instruments
"""

from __future__ import annotations

import functools
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from seqlab.app.errors import FieldError, error_response
from seqlab.errors import UserError
from seqlab.music.bundle import load_bundle
from seqlab.music.changes import CHANGES, TITLES, name_progression, parse_changes
from seqlab.music.perform import BPM, SWING, figures, perform, write_take
from seqlab.music.render import INSTRUMENT, find_instrument, instrument_names

OWN = "own"              # the model's own progression (Metheny's "And Then I Knew")
MAX_MEASURES = 64        # the longest solo the page renders (a WAV of ~2 minutes at 130 bpm)
MAX_CHORDS = 8           # chords in one measure: the cost grows with chords, not only with measures
SOLOS_KEPT = 16
MAX_SEED = 2**32 - 1
TYPES = {"wav": "audio/wav", "png": "image/png", "mid": "audio/midi"}
router = APIRouter()


class JazzRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)   # true is not 1, "3" not 3: JSON has numbers

    chords: str = Field("", max_length=5000)         # `seqlab jazz --chords` notation; empty: `changes`
    changes: str = Field("blues", max_length=40)     # a built-in progression, or "own"
    choruses: int = Field(1, ge=1, le=16)
    bpm: float = Field(130, ge=BPM[0], le=BPM[1], allow_inf_nan=False)
    instrument: str = Field(INSTRUMENT, max_length=60)
    swing: float = Field(0.5, ge=SWING[0], le=SWING[1], allow_inf_nan=False)
    temperature: float = Field(0.0, ge=0.0, le=5.0, allow_inf_nan=False)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class Solos:
    """The rendered files of the last SOLOS_KEPT solos, by id, in a temporary folder of their own: served from
    files, they answer byte ranges (Safari asks for them before it plays a WAV)."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="seqlab-solos-")
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, files: dict[str, bytes]) -> str:
        key = secrets.token_hex(8)
        folder = Path(self._dir.name) / key
        folder.mkdir()
        for ext, data in files.items():
            (folder / f"solo.{ext}").write_bytes(data)
        with self._lock:
            self._keys[key] = None
            while len(self._keys) > SOLOS_KEPT:
                old, _ = self._keys.popitem(last=False)
                shutil.rmtree(Path(self._dir.name) / old, ignore_errors=True)
        return key

    def get(self, key: str, ext: str) -> Path | None:
        with self._lock:
            path = Path(self._dir.name) / key / f"solo.{ext}"
            return path if key in self._keys and path.is_file() else None

    def close(self) -> None:
        self._dir.cleanup()


_bundle = None
_bundle_lock = threading.Lock()


def bundle():
    """The bundled jazz model, loaded once."""
    global _bundle

    with _bundle_lock:
        if _bundle is None:
            _bundle = load_bundle()
        return _bundle


@functools.cache
def own_chords() -> str:
    """The model's own progression named as chord symbols (music21 names the voicings once, in about a second)."""
    return name_progression(bundle().progression)


def changes_list() -> list[dict]:
    # own's chords are its voicings' names, to read (the box shows them greyed: they are played as voiced)
    own = {"name": OWN, "title": "the model's own: Pat Metheny's \"And Then I Knew\"", "chords": own_chords(),
           "measures": len(bundle().progression), "editable": False}
    return [*({"name": k, "title": TITLES.get(k, k), "chords": v, "measures": len(parse_changes(v, k)),
               "editable": True} for k, v in CHANGES.items()), own]


def _field(name: str, fn, *args):
    """fn(*args), with a UserError reported against the request field `name`."""
    try:
        return fn(*args)
    except UserError as exc:
        raise FieldError(name, str(exc)) from None


def render(body: JazzRequest) -> tuple[dict[str, bytes], dict]:
    """Improvise and render: the files (wav, png, mid) and the solo's figures."""

    names = [*CHANGES, OWN]
    if body.changes not in names:     # checked even when chords are typed, not ignored
        raise FieldError("changes", f"unknown progression {body.changes!r}; expected one of: {', '.join(names)}")
    typed = body.chords.strip()
    if typed and body.changes == OWN and typed == own_chords():   # the own chords as the panel shows them
        typed = ""
    if typed and typed != CHANGES.get(body.changes):
        changes = _field("chords", parse_changes, body.chords)
        label = "your chords"
        for n, measure in enumerate(changes, 1):
            if len(measure) > MAX_CHORDS:
                raise FieldError("chords", f"measure {n} holds {len(measure):,} chords; at most {MAX_CHORDS} in a "
                                           f"measure here (bar lines | separate measures)")
    elif body.changes in CHANGES:
        changes, label = parse_changes(CHANGES[body.changes], body.changes), body.changes
    else:
        changes, label = None, OWN
    instrument = _field("instrument", find_instrument, body.instrument).instrumentName
    b = bundle()
    measures = body.choruses * (len(b.progression) if changes is None else len(changes))
    if measures > MAX_MEASURES:
        if changes is not None and len(changes) > MAX_MEASURES:   # one chorus is too long: the chords' fault
            raise FieldError("chords", f"the changes last {len(changes)} measures; at most {MAX_MEASURES} here")
        raise FieldError("choruses", f"the solo would last {measures} measures; at most {MAX_MEASURES} here "
                                     f"(fewer choruses)")
    take = perform(b, changes=changes, choruses=body.choruses, bpm=body.bpm, instrument=instrument,
                   swing=body.swing, temperature=body.temperature, seed=body.seed)
    with tempfile.TemporaryDirectory(prefix="seqlab-solo-") as tmp:
        paths = {ext: Path(tmp) / f"solo.{ext}" for ext in TYPES}
        write_take(take, midi=paths["mid"], wav=paths["wav"], png=paths["png"])
        files = {ext: p.read_bytes() for ext, p in paths.items()}
    summary = {"changes": label, "measures": take.measures, "bpm": take.bpm, "instrument": take.instrument,
               "swing": take.swing, "seconds": round(take.measures * b.beats * 60.0 / take.bpm, 2), "notes": 0}
    if any(not n.is_rest for n in take.solo.notes):
        f = figures(take, b)
        summary.update(notes=f["notes"], chord_tone_fraction=round(f["chord_tone_fraction"], 3),
                       longest_copied_run=f["longest_copied_run"], key=f["key"], monophonic=f["monophonic"])
    return files, summary


@router.get("/api/changes")
def list_changes() -> dict:
    return {"changes": changes_list(), "instruments": list(instrument_names()), "instrument": INSTRUMENT,
            "max_measures": MAX_MEASURES}


@router.post("/api/jazz")
def jazz(body: JazzRequest, request: Request) -> dict:
    files, summary = render(body)
    key = request.app.state.solos.add(files)
    urls = {ext: f"/api/jazz/{key}/solo.{ext}" for ext in TYPES}
    return {"id": key, "wav": urls["wav"], "png": urls["png"], "midi": urls["mid"], **summary}


@router.get("/api/jazz/{key}/solo.{ext}")
def solo_file(key: str, ext: str, request: Request):
    path = request.app.state.solos.get(key, ext) if ext in TYPES else None
    if path is None:
        return error_response([(None, f"no such solo file (only the last {SOLOS_KEPT} solos are kept)")], status=404)
    return FileResponse(path, media_type=TYPES[ext], content_disposition_type="inline",
                        filename=f"solo-{key}.{ext}", headers={"Cache-Control": "max-age=3600"})
