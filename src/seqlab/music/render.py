"""Writing a solo out: MIDI (two tracks, "Solo" and "Chords"), a WAV from a small built-in synthesizer, and a
piano-roll PNG. Every file is written beside its target and renamed over it, so a failure leaves no half file.

Notes and chords here have offsets in quarter notes from the start of the piece.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from seqlab.fileio import write_bytes_atomic
from seqlab.music.events import Chord, Note, snap

TEMPO = 130          # beats per minute, like the course's output
SAMPLE_RATE = 22050


def to_score(notes: list[Note], chords: list[Chord], tempo: float = TEMPO):
    """A music21 Score with parts "Solo" (electric guitar) and "Chords" (piano), and the tempo mark."""
    from music21 import chord as m21chord
    from music21 import instrument, stream
    from music21 import note as m21note
    from music21 import tempo as m21tempo

    score = stream.Score()
    for name, inst in (("Solo", instrument.ElectricGuitar()), ("Chords", instrument.Piano())):
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


def write_midi(path, notes: list[Note], chords: list[Chord], tempo: float = TEMPO) -> Path:
    """Write the solo and its chords as a MIDI file at `tempo` beats per minute."""
    from music21.midi.translate import streamToMidiFile

    return write_bytes_atomic(path, streamToMidiFile(to_score(notes, chords, tempo)).writestr())


def synthesize(notes: list[Note], chords: list[Chord], tempo: float = TEMPO,
               rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 audio (n_samples,) in [-1, 1]: plucked-string-like solo over soft sustained chords."""
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
    return (out / peak * 0.9 if peak > 0 else out).astype(np.float32)


def write_wav(path, notes: list[Note], chords: list[Chord], tempo: float = TEMPO,
              rate: int = SAMPLE_RATE) -> Path:
    """Render with `synthesize` and write 16-bit mono PCM."""
    pcm = (synthesize(notes, chords, tempo, rate) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return write_bytes_atomic(path, buf.getvalue())


def write_png(path, notes: list[Note], chords: list[Chord], beats: float = 4.0, title: str = "") -> Path:
    """A piano roll: chords as grey bars, the solo in colour on top, measure lines every `beats`."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    sounding = [n for n in notes if not n.is_rest]
    end = max([n.end for n in sounding] + [c.offset + c.duration for c in chords] + [beats])
    pitches = [n.pitch for n in sounding] + [p for c in chords for p in c.pitches]
    lo, hi = (min(pitches) - 2, max(pitches) + 2) if pitches else (48, 84)
    fig = Figure(figsize=(min(4 + end / 2.5, 40), 6), dpi=100)
    ax = fig.add_subplot()
    chord_boxes = [Rectangle((c.offset, p - 0.4), c.duration, 0.8) for c in chords for p in c.pitches]
    solo_boxes = [Rectangle((n.offset, n.pitch - 0.45), n.duration, 0.9) for n in sounding]
    ax.add_collection(PatchCollection(chord_boxes, facecolor="0.8", edgecolor="0.6", linewidth=0.3))
    ax.add_collection(PatchCollection(solo_boxes, facecolor="tab:orange", edgecolor="black", linewidth=0.4))
    for bar in np.arange(0, end + 1e-9, beats):
        ax.axvline(bar, color="0.5", linewidth=0.5)
    ax.set_xlim(0, end)
    ax.set_ylim(lo, hi)
    cs = [p for p in range(lo, hi + 1) if p % 12 == 0]
    ax.set_yticks(cs, [f"C{p // 12 - 1}" for p in cs])
    ax.set_xlabel("beats (quarter notes)")
    ax.set_ylabel("pitch")
    ax.set_title(title or "solo (orange) over chords (grey)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return write_bytes_atomic(path, buf.getvalue())


def read_solo_midi(path) -> tuple[list[Note], list[Chord]]:
    """The solo and chords back from a file written by `write_midi` (parts named "Solo" and "Chords")."""
    from music21.midi.translate import midiFileToStream

    from seqlab.errors import UserError
    from seqlab.music.midi import read_midi

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
