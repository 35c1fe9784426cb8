"""Writing a solo out: MIDI (two tracks, "Solo" and "Chords"), a WAV from a small built-in synthesizer, and a
piano-roll PNG. Every file is written beside its target and renamed over it, so a failure leaves no half file.

Notes and chords here have offsets in quarter notes from the start of the piece.
"""

from __future__ import annotations

import difflib
import inspect
import io
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from seqlab.errors import UserError
from seqlab.fileio import write_bytes_atomic
from seqlab.music.events import Chord, Note, snap
from seqlab.music.midi import read_midi

# music21 and matplotlib are imported inside the functions that use them: each takes about a second to import,
# and most callers (the command line's --help, the text models, the tests of other parts) never need them.

TEMPO = 130          # beats per minute, like the course's output
SAMPLE_RATE = 22050
PEAK = 10 ** (-1.2 / 20)   # the WAV's peak: -1.2 dBFS, so it never clips (-1 dBFS is the usual ceiling)
INSTRUMENT = "Electric Guitar"  # the solo's General MIDI instrument by default (Metheny's)


@lru_cache(maxsize=1)
def instrument_names() -> tuple[str, ...]:
    """The names of music21's pitched instruments that have a General MIDI program, sorted."""
    from music21 import instrument

    names = set()
    for _, cls in inspect.getmembers(instrument, inspect.isclass):
        if issubclass(cls, instrument.Instrument) and not issubclass(cls, instrument.UnpitchedPercussion):
            try:
                inst = cls()
            except Exception:  # noqa: BLE001 - a few abstract classes need arguments; they are not instruments
                continue
            if inst.midiProgram is not None and inst.instrumentName:
                names.add(inst.instrumentName)
    return tuple(sorted(names))


def find_instrument(name: str):
    """The music21 instrument called `name` ("Alto Saxophone", "trumpet"), named canonically; UserError with
    the closest names when music21 knows no pitched General MIDI instrument by it."""

    from music21 import instrument
    from music21.exceptions21 import InstrumentException

    try:
        inst = type(instrument.fromString(str(name)))()
    except InstrumentException:
        inst = None
    if inst is None or isinstance(inst, instrument.UnpitchedPercussion) or inst.midiProgram is None:
        names = instrument_names()
        lower = {n.lower(): n for n in names}
        close = [lower[n] for n in difflib.get_close_matches(str(name).lower(), lower, n=4, cutoff=0.4)]
        hint = f"close matches: {', '.join(close)}" if close else \
            f"e.g. {', '.join(n for n in ('Alto Saxophone', 'Trumpet', 'Vibraphone', 'Piano') if n in names)}"
        raise UserError(f"unknown instrument {name!r}; expected a pitched General MIDI instrument as music21 "
                        f"names it ({hint})")
    return inst


def swung(notes: list[Note], ratio: float = 0.5) -> list[Note]:
    """The notes with swung eighths: within each beat, the off-beat eighth moves from 0.5 to `ratio`
    (0.5 straight, 2/3 triplet swing, 0.75 dotted), by stretching the beat's first half and squeezing its
    second. Onsets and ends move alike, so notes stay in order and never overlap."""
    if ratio == 0.5:
        return list(notes)

    def warp(t: float) -> float:
        beat = np.floor(t + 1e-9)
        f = t - beat
        return float(beat + (f * 2 * ratio if f <= 0.5 else ratio + (f - 0.5) * 2 * (1 - ratio)))

    return [Note(warp(n.offset), warp(n.offset + n.duration) - warp(n.offset), n.pitch) for n in notes]


def to_score(notes: list[Note], chords: list[Chord], tempo: float = TEMPO, instrument: str = INSTRUMENT):
    """A music21 Score with parts "Solo" (`instrument`) and "Chords" (piano), and the tempo mark."""
    from music21 import chord as m21chord
    from music21 import instrument as m21instrument
    from music21 import note as m21note
    from music21 import stream
    from music21 import tempo as m21tempo

    score = stream.Score()
    for name, inst in (("Solo", find_instrument(instrument)), ("Chords", m21instrument.Piano())):
        part = stream.Part()
        part.id = part.partName = inst.partName = name
        part.insert(0, inst)
        part.insert(0, m21tempo.MetronomeMark(number=tempo))
        if name == "Solo":
            for n in notes:
                if not n.is_rest:
                    part.insert(n.offset, m21note.Note(midi=n.pitch, quarterLength=n.duration))
        else:
            for c in chords:
                part.insert(c.offset, m21chord.Chord(list(c.pitches), quarterLength=c.duration))
        score.insert(0, part)
    return score


def write_midi(path, notes: list[Note], chords: list[Chord], tempo: float = TEMPO,
               instrument: str = INSTRUMENT) -> Path:
    """Write the solo (on `instrument`) and its chords as a MIDI file at `tempo` beats per minute."""
    from music21.midi.translate import streamToMidiFile

    return write_bytes_atomic(path, streamToMidiFile(to_score(notes, chords, tempo, instrument)).writestr())


def synthesize(notes: list[Note], chords: list[Chord], tempo: float = TEMPO,
               rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 audio (n_samples,), peak PEAK: a plucked-string-like solo over the chords as a soft
    sustained comping voice (a quarter of the solo's level per note), all with the same additive synthesizer."""
    spb = 60.0 / tempo  # seconds per beat
    events = [(n.offset, n.duration, n.pitch, 0.5, 3.0) for n in notes if not n.is_rest]
    events += [(c.offset, c.duration, p, 0.12, 1.0) for c in chords for p in c.pitches]
    end = max((o + d for o, d, *_ in events), default=0.0) * spb + 0.5
    out = np.zeros(int(end * rate) + 1, dtype=np.float64)
    harmonics = np.array([1.0, 0.5, 0.25, 0.12])
    for offset, dur, pitch, amp, decay in events:
        length = dur * spb
        n = int((length + 0.08) * rate)  # a short release after the note's end
        t = np.arange(n) / rate
        f = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
        k = np.arange(1, len(harmonics) + 1)[:, None]
        tone = (harmonics[:, None] * np.sin(2 * np.pi * f * k * t) * (k * f < rate / 2)).sum(axis=0)
        env = np.minimum(t / 0.005, 1.0) * np.exp(-decay * t)
        env *= np.clip((length + 0.08 - t) / 0.08, 0.0, 1.0)  # release ramp
        start = int(offset * spb * rate)
        out[start:start + n] += amp * env * tone
    peak = np.abs(out).max()
    return (out / peak * PEAK if peak > 0 else out).astype(np.float32)


def write_wav(path, notes: list[Note], chords: list[Chord], tempo: float = TEMPO,
              rate: int = SAMPLE_RATE) -> Path:
    """Render with `synthesize` and write 16-bit mono PCM (peak PEAK, -1.2 dBFS)."""
    pcm = np.round(synthesize(notes, chords, tempo, rate) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return write_bytes_atomic(path, buf.getvalue())


MEASURES_PER_ROW = 8   # the piano roll's rows, like systems on a page: one long strip shrank to be unreadable
ROLL_WIDTH = 11.0      # inches at 100 dpi: about the page's width, so it is shown near its own size


def piano_roll(notes: list[Note], chords: list[Chord], beats: float = 4.0, title: str = ""):
    """A matplotlib Figure: chords as grey bars, the solo in colour on top, measure lines every `beats`, and
    each chord's symbol (where it has one) above the roll at its onset; MEASURES_PER_ROW measures a row, rows
    one under the other, all ROLL_WIDTH wide whatever the length (x in beats from the start)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import blended_transform_factory

    sounding = [n for n in notes if not n.is_rest]
    end = max([n.end for n in sounding] + [c.offset + c.duration for c in chords] + [beats])
    pitches = [n.pitch for n in sounding] + [p for c in chords for p in c.pitches]
    lo, hi = (min(pitches) - 2, max(pitches) + 2) if pitches else (48, 84)
    measures = max(1, int(np.ceil(end / beats - 1e-9)))
    per_row = min(MEASURES_PER_ROW, measures)
    rows = -(-measures // per_row)
    span = per_row * beats
    named = any(c.name for c in chords)
    fig = Figure(figsize=(ROLL_WIDTH, 0.9 + 2.3 * rows), dpi=100)
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    fig.subplots_adjust(hspace=0.45 if named else 0.25)
    cs = [p for p in range(lo, hi + 1) if p % 12 == 0]
    for r, ax in enumerate(axes):
        x0 = r * span
        ax.add_collection(PatchCollection([Rectangle((c.offset, p - 0.4), c.duration, 0.8)
                                           for c in chords for p in c.pitches],
                                          facecolor="0.8", edgecolor="0.6", linewidth=0.3))
        ax.add_collection(PatchCollection([Rectangle((n.offset, n.pitch - 0.45), n.duration, 0.9) for n in sounding],
                                          facecolor="tab:orange", edgecolor="black", linewidth=0.4))
        bars = np.arange(x0, x0 + span + 1e-9, beats)
        for bar in bars:
            ax.axvline(bar, color="0.5", linewidth=0.5)
        above = blended_transform_factory(ax.transData, ax.transAxes)  # x in beats, y just over the top
        for c in chords:
            if c.name and x0 <= c.offset < x0 + span:
                ax.text(c.offset + 0.05, 1.01, c.name, transform=above, ha="left", va="bottom", fontsize=9)
        ax.set_xlim(x0, x0 + span)
        ax.set_ylim(lo, hi)
        ax.set_xticks(bars[:-1] + beats / 2, [str(int(round(b / beats)) + 1) for b in bars[:-1]], fontsize=8)
        ax.tick_params(axis="x", length=0)
        ax.set_yticks(cs, [f"C{p // 12 - 1}" for p in cs], fontsize=8)
        ax.set_ylabel("pitch", fontsize=9)
    axes[-1].set_xlabel(f"measure ({beats:g} beats each)", fontsize=9)
    axes[0].set_title(title or "solo (orange) over chords (grey)", pad=20 if named else 6)
    return fig


def write_png(path, notes: list[Note], chords: list[Chord], beats: float = 4.0, title: str = "") -> Path:
    """The `piano_roll` as a PNG."""
    buf = io.BytesIO()
    piano_roll(notes, chords, beats, title).savefig(buf, format="png", bbox_inches="tight")
    return write_bytes_atomic(path, buf.getvalue())


def read_solo_midi(path) -> tuple[list[Note], list[Chord]]:
    """The solo and chords back from a file written by `write_midi` (parts named "Solo" and "Chords")."""
    from music21.midi.translate import midiFileToStream

    mf = read_midi(path)  # clear messages for missing, empty or non-MIDI files
    score = midiFileToStream(mf, quantizePost=False)  # our own grid, not music21's re-quantization
    parts = {p.partName: p for p in score.parts}
    if "Solo" not in parts or "Chords" not in parts:
        raise UserError(f"{path} has parts {sorted(map(str, parts))}; expected parts named Solo and Chords")
    notes = [Note(snap(n.offset), snap(n.quarterLength), max(p.midi for p in n.pitches))
             for n in parts["Solo"].flatten().notes]
    chords = [Chord(snap(c.offset), snap(c.quarterLength), tuple(sorted(p.midi for p in c.pitches)))
              for c in parts["Chords"].flatten().notes]
    return notes, chords
