"""The Names, Poem and Models panels: invent lines with a text model, complete a poem as it is sampled, list
the models.

POST /api/names  {model, n, temperature, top_k, top_p, prefix, max_len, seed} -> {names: [{name, new}], ...}
POST /api/poem   {model, prompt, length, temperature, top_k, top_p, seed, beam, form}
                                  -> text/event-stream of the completion (a form's: app/form_routes.py)
GET  /api/models                               -> {models: [{name, ...settings}], skipped: [{file, why}]}
"""

from __future__ import annotations

import json
import threading
import time
from typing import Literal

import anyio
import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from seqlab.app.abandon import Abandoned, watched
from seqlab.app.errors import FieldError
from seqlab.app.form_routes import check_form, form_events
from seqlab.errors import UserError
from seqlab.text.poem import complete, completion
from seqlab.text.sampling import novelty, novelty_summary, sample_lines

MAX_TEXT = 5000          # characters of a prompt, and of a completion
MAX_SEED = 2**32 - 1
CHUNK_SECONDS = 0.03     # the poem is sent in pieces of at most this much sampling time

router = APIRouter()


class Sampling(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)   # true is not 1, "3" not 3: JSON has numbers

    temperature: float = Field(1.0, ge=0.05, le=5.0, allow_inf_nan=False)
    top_k: int | None = Field(None, ge=1, le=1000)
    top_p: float | None = Field(None, gt=0.0, le=1.0, allow_inf_nan=False)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)


class NamesRequest(Sampling):
    model: str = Field("dinos", max_length=64)
    n: int = Field(10, ge=1, le=100)
    prefix: str = Field("", max_length=100)
    max_len: int = Field(40, ge=1, le=200)


class PoemRequest(Sampling):
    model: str = Field("shakespeare", max_length=64)
    prompt: str = Field("", max_length=MAX_TEXT)
    length: int = Field(400, ge=1, le=MAX_TEXT)
    beam: int | None = Field(None, ge=1, le=8)   # the likeliest completion instead of a sampled one
    form: Literal["free", "sonnet", "quatrain", "couplet"] = "free"   # a rhymed form, line by line

    def check_beam(self) -> None:
        """No sampling option beside a beam: the search chooses nothing at random, so they would be ignored."""
        if self.beam is None:
            return
        for name in ("temperature", "top_k", "top_p", "seed"):
            if name in self.model_fields_set and getattr(self, name) is not None:
                raise FieldError(name, f"{name.replace('_', '-')} does not apply with a beam: the search finds the "
                                       f"likeliest completion, the same every time")


def _model(request: Request, name: str):
    try:
        return request.app.state.store.load(name)
    except UserError as exc:
        raise FieldError("model", str(exc)) from None


def _encode(lm, text: str, field: str) -> np.ndarray:
    try:
        return lm.encode(text)
    except UserError as exc:
        raise FieldError(field, f"{field}: {exc}") from None


def _seed(seed: int | None) -> int:
    """The seed to use: the one asked for, or a fresh one that the answer reports (to get the same again)."""
    return int(np.random.default_rng().integers(MAX_SEED)) if seed is None else seed


@router.get("/api/models")
def models(request: Request) -> dict:
    entries, skipped = request.app.state.store.listing()
    return {"models": [{"name": e.name, **e.info} for e in entries], "skipped": skipped}


@router.post("/api/names")
def names(body: NamesRequest, request: Request) -> dict:
    """Lines from the model, each marked new when it is not a line of the training data."""

    lm = _model(request, body.model)
    if lm.mode != "lines":   # a stream model's "names" were passages cut mid-word, or empty
        lines_models = [e.name for e in request.app.state.store.entries() if e.info["mode"] == "lines"]
        raise FieldError("model", f"{body.model} is a stream model (continuous text), and a name is a line: "
                                  f"choose a lines model ({', '.join(lines_models) or 'none yet'}), or write "
                                  f"with it in Poem")
    _encode(lm, body.prefix, "prefix")
    if "\n" in body.prefix:
        raise FieldError("prefix", "prefix: it holds a line end; a name is one line")
    # One request computes at a time (app.state.compute): BLAS calls from many threads at once on a small
    # machine spend their time spinning, not computing.
    seed = _seed(body.seed)
    with request.app.state.compute:
        lines = sample_lines(lm, body.n, prefix=body.prefix, max_len=body.max_len,
                             temperature=body.temperature, top_k=body.top_k, top_p=body.top_p, seed=seed)
    known = lm.training_lines
    shown = [s.capitalize() if lm.lower else s for s in lines]
    out = [{"name": t, "new": None if known is None else s not in known} for s, t in zip(lines, shown)]
    count, distinct, new = len(lines), len(set(lines)), None if known is None else novelty(lines, known)
    return {"model": body.model, "seed": seed, "names": out, "count": count, "distinct": distinct,
            "new": new,     # of the distinct ones; summary: the line `seqlab names` says, for the page
            "summary": None if new is None else novelty_summary(count, distinct, new)}


def _take(chars, seconds: float, lock) -> str:
    """What `chars` yields in about `seconds` of holding `lock` ("" when it is exhausted)."""
    out = []
    with lock:
        end = time.perf_counter() + seconds
        for ch in chars:
            out.append(ch)
            if time.perf_counter() >= end:
                break
    return "".join(out)


def _beam(lm, body: PoemRequest, lock, gone: threading.Event) -> str:
    """The beam's completion; it stops at its next step (Abandoned) once `gone` is set (the client left)."""
    with lock:
        if gone.is_set():
            raise Abandoned
        return complete(watched(lm, gone), body.prompt, body.length, beam=body.beam)


def sse(data: dict, event: str | None = None, id: int | None = None) -> str:
    """One server-sent event."""
    head = (f"event: {event}\n" if event else "") + (f"id: {id}\n" if id is not None else "")
    return f"{head}data: {json.dumps(data)}\n\n"


@router.post("/api/poem")
def poem(body: PoemRequest, request: Request):
    """The completion streamed as server-sent events: `data: {"text": piece}` ..., then `event: done`.

    Sampling happens only while the client reads: a client that goes away stops it at the next piece.
    Requests take turns on the CPU (app.state.compute) a piece at a time, so simultaneous poems interleave.
    With `beam` the likeliest completion a beam of that width finds comes as one piece; it is the same every
    time, so the sampling options and the seed are refused beside it (422).
    """
    body.check_beam()
    lm = _model(request, body.model)
    _encode(lm, body.prompt, "prompt")
    if lm.mode == "lines" and "\n" in body.prompt:      # found before the stream starts: a 422, not a cut stream
        raise FieldError("prompt", "prompt: it holds a line end; a lines model writes one line after its prompt")
    seed = None if body.beam is not None else _seed(body.seed)
    stats = request.app.state.stats
    if body.form != "free":
        check_form(body, lm)
        return StreamingResponse(form_events(lm, body, seed, request.app.state.compute, sse),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def events():
        if body.beam is not None:
            yield sse({"beam": body.beam, "model": body.model}, event="start")
            gone = threading.Event()
            try:   # a client that goes away cancels this await at once, and the search at its next step
                text = await anyio.to_thread.run_sync(_beam, lm, body, request.app.state.compute, gone,
                                                      abandon_on_cancel=True)
            finally:
                gone.set()
            stats["poem_chars"] += len(text)
            yield sse({"text": text})
            yield sse({"chars": len(text)}, event="done")
            return
        chars = completion(lm, body.prompt, body.length, body.temperature, body.top_k, seed, body.top_p)
        stats["poems_streaming"] += 1
        sent = 0
        try:
            yield sse({"seed": seed, "model": body.model}, event="start")
            while True:
                piece = await run_in_threadpool(_take, chars, CHUNK_SECONDS, request.app.state.compute)
                if not piece:
                    break
                sent += len(piece)
                stats["poem_chars"] += len(piece)
                yield sse({"text": piece})
            yield sse({"chars": sent}, event="done")
        finally:
            stats["poems_streaming"] -= 1
            try:
                chars.close()
            except ValueError:  # cancelled while a piece was being sampled: it ends with that piece
                pass

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
