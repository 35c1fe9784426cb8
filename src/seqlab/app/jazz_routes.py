"""The Jazz panel: improvise a solo, render it on the server (WAV, piano-roll PNG, MIDI) and serve the files.

POST /api/jazz                 {changes, choruses, measures, bpm, temperature, seed} -> {id, wav, png, midi, ...}
GET  /api/jazz/{id}/solo.{ext} the rendered files (the last SOLOS_KEPT solos are kept in memory)
GET  /api/changes              the built-in progressions
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from seqlab.app.errors import FieldError

SOLOS_KEPT = 16
MAX_SEED = 2**32 - 1
TYPES = {"wav": "audio/wav", "png": "image/png", "mid": "audio/midi"}
router = APIRouter()


class JazzRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: str = Field("metheny", max_length=40)
    choruses: int = Field(1, ge=1, le=16)
    measures: int = Field(16, ge=1, le=64)
    bpm: int = Field(130, ge=40, le=300)
    temperature: float = Field(0.0, ge=0.0, le=5.0, allow_inf_nan=False)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class Solos:
    """The rendered files of the last SOLOS_KEPT solos, by id."""

    def __init__(self):
        self._files: OrderedDict[str, dict[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, files: dict[str, bytes]) -> str:
        key = secrets.token_hex(8)
        with self._lock:
            self._files[key] = files
            while len(self._files) > SOLOS_KEPT:
                self._files.popitem(last=False)
        return key

    def get(self, key: str, ext: str) -> bytes | None:
        with self._lock:
            return self._files.get(key, {}).get(ext)


_bundle = None
_bundle_lock = threading.Lock()


def bundle():
    """The bundled jazz model, loaded once."""
    global _bundle
    from seqlab.music.bundle import load_bundle

    with _bundle_lock:
        if _bundle is None:
            _bundle = load_bundle()
        return _bundle


def changes() -> list[dict]:
    b = bundle()
    return [{"name": "metheny", "measures": len(b.progression),
             "description": "the model's own changes: Pat Metheny's \"And Then I Knew\""}]


def render(body: JazzRequest) -> tuple[dict[str, bytes], dict]:
    """Improvise and render: the files (wav, png, mid) and a summary of the solo."""
    from seqlab.music import quality
    from seqlab.music.improvise import improvise
    from seqlab.music.render import write_midi, write_png, write_wav

    names = [c["name"] for c in changes()]
    if body.changes not in names:
        raise FieldError("changes", f"unknown progression {body.changes!r}; expected one of: {', '.join(names)}")
    b = bundle()
    measures = body.measures * body.choruses
    solo = improvise(b, measures, body.seed, body.temperature)
    with tempfile.TemporaryDirectory(prefix="seqlab-solo-") as tmp:
        out = Path(tmp)
        write_midi(out / "solo.mid", solo.notes, solo.chords, tempo=body.bpm)
        write_wav(out / "solo.wav", solo.notes, solo.chords, tempo=body.bpm)
        write_png(out / "solo.png", solo.notes, solo.chords, solo.beats,
                  title=f"{body.changes}, {measures} measures, seed {body.seed}")
        files = {ext: (out / f"solo.{ext}").read_bytes() for ext in TYPES}
    sounding = [n for n in solo.notes if not n.is_rest]
    summary = {"measures": measures, "notes": len(sounding), "bpm": body.bpm,
               "seconds": round(measures * b.beats * 60.0 / body.bpm, 2)}
    if sounding:
        r = quality.report(solo.notes, solo.chords, b.training)
        summary["chord_tone_fraction"] = round(r["chord_tone_fraction"], 3)
        summary["longest_copied_run"] = r["longest_copied_run"]
    return files, summary


@router.get("/api/changes")
def list_changes() -> dict:
    return {"changes": changes()}


@router.post("/api/jazz")
def jazz(body: JazzRequest, request: Request) -> dict:
    files, summary = render(body)
    key = request.app.state.solos.add(files)
    urls = {ext: f"/api/jazz/{key}/solo.{ext}" for ext in TYPES}
    return {"id": key, "wav": urls["wav"], "png": urls["png"], "midi": urls["mid"], **summary}


@router.get("/api/jazz/{key}/solo.{ext}")
def solo_file(key: str, ext: str, request: Request):
    data = request.app.state.solos.get(key, ext) if ext in TYPES else None
    if data is None:
        return JSONResponse({"detail": "no such solo file (only the last 16 solos are kept)"}, status_code=404)
    return Response(data, media_type=TYPES[ext], headers={
        "Content-Disposition": f'inline; filename="solo-{key}.{ext}"', "Cache-Control": "max-age=3600"})
