"""Reading a MIDI file with music21: find the solo and the harmony, cut a section of it into measures.

music21 numbers a file's parts in the order of its tracks that hold notes; so do we (`part` below). The
course's Metheny set-up is part 5 (the guitar; music21 keeps its two voices in one part, and we merge them into
one line) over the chords of part 0 (the piano), offsets 476 to 548 in 4-beat measures. For any other file the
defaults are: the track with the most single-note onsets is the solo, the other track with the most chord
onsets is the harmony, and the section is the whole piece from the solo's first measure to its last.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

from seqlab.data import sha256_file
from seqlab.errors import UserError
from seqlab.fileio import check_input_file
from seqlab.music.events import Chord, Note, Section, snap

MIDI_MAGIC = b"MThd"   # the first four bytes of every standard MIDI file

# music21 is imported inside the functions that use it: it takes about a second to import, and most callers
# (the command line's --help, the text models, the tests of other parts) never need it.

DRUM_CHANNEL = 10       # General MIDI percussion (music21 numbers channels from 1)
MIN_REST = 0.25         # shorter gaps between solo notes are absorbed into the note before them
METHENY_SHA256 = "0da8322ceab36b036682b5ece0c315193f7b701a3340a0ca5a523b107c6f428d"
METHENY = {"solo_part": 5, "chord_part": 0, "start": 476.0, "end": 548.0, "beats": 4.0}
MAX_BYTES = 16 << 20    # larger files are refused before reading (the Metheny file is 92 KB)
MAX_QUARTERS = 4096     # a track longer than this (quarter notes) is refused: music21's measure making
                        # is quadratic in the length, and one damaged delta time can claim years


@dataclass(frozen=True)
class TrackInfo:
    """One part of a MIDI file: its number (music21's), name, channel, note and chord onsets, drums or not."""

    part: int
    name: str
    channel: int | None
    notes: int    # onsets with a single pitch
    chords: int   # onsets with two or more pitches
    drums: bool


def is_midi(path) -> bool:
    """Whether `path` starts as a standard MIDI file does (for deciding whether a file may be replaced)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == MIDI_MAGIC
    except OSError:
        return False


def read_midi(path):
    """A music21 MidiFile read from `path`; UserError for a missing, empty or non-MIDI file."""
    from music21 import midi

    p = check_input_file(path, "a MIDI file (.mid)", "a MIDI file", MAX_BYTES, allow_empty=False)
    with open(p, "rb") as f:
        if f.read(4) != MIDI_MAGIC:
            raise UserError(f"{p} is not a MIDI file (no MThd header); expected a standard MIDI file (.mid)")
    mf = midi.MidiFile()
    try:
        mf.open(str(p))
        try:
            with warnings.catch_warnings():  # music21 warns on odd events: our message is the one line
                warnings.simplefilter("ignore")
                mf.read()
        finally:
            mf.close()
    except Exception as exc:  # music21 raises several types for damaged files (MidiException, IndexError...)
        raise UserError(f"{p} is not a readable MIDI file ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'damaged'})") from None
    if not mf.ticksPerQuarterNote:
        raise UserError(f"{p} uses SMPTE time, not beats; expected a MIDI file with ticks per quarter note")
    return mf


def _onsets(mt) -> list[tuple[int, int, int]]:
    """(tick, pitch, channel) of every note-on (velocity > 0) in a MIDI track."""
    from music21.midi import ChannelVoiceMessages
    from music21.midi.translate import getTimeForEvents

    return [(t, e.pitch, e.channel) for t, e in getTimeForEvents(mt)
            if e.type == ChannelVoiceMessages.NOTE_ON and e.velocity]


def _track_name(mt) -> str:
    from music21.midi import MetaEvents

    for e in mt.events:
        if e.type == MetaEvents.SEQUENCE_TRACK_NAME:
            data = e.data.decode("latin-1") if isinstance(e.data, bytes) else str(e.data)
            return data.strip().strip("\x00")
    return ""


def note_tracks(mf) -> list:
    """The tracks that hold notes, in file order: index i is music21's part i."""
    return [mt for mt in mf.tracks if mt.hasNotes()]


def scan_tracks(mf) -> list[TrackInfo]:
    """Count single-note and chord onsets in every part (fast: raw events, no music21 streams)."""
    tol = max(1, mf.ticksPerQuarterNote // 24)  # onsets this close count as one chord
    out = []
    for i, mt in enumerate(note_tracks(mf)):
        ons = sorted(_onsets(mt))
        channels = {c for _, _, c in ons}
        groups: list[set[int]] = []
        last = None
        for t, pitch, _ in ons:
            if last is not None and t - last <= tol:
                groups[-1].add(pitch)
            else:
                groups.append({pitch})
            last = t
        singles = sum(1 for g in groups if len(g) == 1)
        drums = bool(channels) and channels <= {DRUM_CHANNEL}
        out.append(TrackInfo(i, _track_name(mt), min(channels) if channels else None,
                             singles, len(groups) - singles, drums))
    return out


def default_parts(tracks: list[TrackInfo], source: str = "the file") -> tuple[int, int]:
    """(solo part, chord part): most single notes, then the other part with most chords; UserError if none."""
    pitched = [t for t in tracks if not t.drums]
    if not tracks:
        raise UserError(f"{source} has no notes; expected a MIDI file with a melody and chords")
    if not pitched:
        raise UserError(f"{source} has only drum tracks (channel {DRUM_CHANNEL}); expected a pitched melody "
                        f"and chords")
    solo = max(pitched, key=lambda t: (t.notes, -t.part))
    others = [t for t in pitched if t.part != solo.part and t.chords > 0]
    if not others:
        if solo.chords == 0:
            raise UserError(f"{source} has no chords in any pitched track; expected a harmony part")
        return solo.part, solo.part  # one track carries both (its single notes are the tune)
    harmony = max(others, key=lambda t: (t.chords, -t.part))
    return solo.part, harmony.part


def _part_elements(mf, part: int):
    """The notes and chords of music21's part `part`, flattened (voices merged), quantized by music21."""
    from music21.midi.translate import getTimeForEvents, midiTrackToStream

    mt = note_tracks(mf)[part]
    end = max((t for t, _ in getTimeForEvents(mt)), default=0) / mf.ticksPerQuarterNote
    if end > MAX_QUARTERS:
        raise UserError(f"part {part} runs to offset {end:,.0f} quarter notes; expected at most "
                        f"{MAX_QUARTERS:,} (a damaged file, or a piece too long to improvise over)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = midiTrackToStream(mt, ticksPerQuarter=mf.ticksPerQuarterNote)
            return list(p.flatten().notes)
    except Exception as exc:  # music21 fails in many ways on damaged events
        raise UserError(f"part {part} cannot be read as music ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'damaged'})") from None


def _monophonic(events: list[tuple[float, float, int]], start: float, end: float) -> list[tuple[float, float, int]]:
    """One line from (offset, duration, pitch) events: the top note per onset, each cut at the next onset."""
    by_onset: dict[float, tuple[float, int]] = {}
    for off, dur, pitch in events:
        if start <= off < end:
            prev = by_onset.get(off)
            if prev is None or pitch > prev[1]:
                by_onset[off] = (dur, pitch)
    onsets = sorted(by_onset)
    line = []
    for k, off in enumerate(onsets):
        dur, pitch = by_onset[off]
        stop = min(off + dur, onsets[k + 1] if k + 1 < len(onsets) else end, end)
        if stop > off:
            line.append((off, snap(stop - off), pitch))
    return line


def _measures(line, start: float, n: int, beats: float) -> list[list[Note]]:
    """Cut a monophonic line into n measures of `beats`, notes clipped at bar lines, rests in the gaps."""
    measures: list[list[Note]] = [[] for _ in range(n)]
    for off, dur, pitch in line:
        i = int((off - start) // beats)
        rel = snap(off - start - i * beats)
        measures[i].append(Note(rel, snap(min(dur, beats - rel)), pitch))
    out = []
    for notes in measures:
        filled: list[Note] = []
        t = 0.0
        for nt in notes + [Note(beats, 0.0, None)]:
            gap = snap(nt.offset - t)
            if gap > 0:
                if gap < MIN_REST and filled and not filled[-1].is_rest:
                    last = filled[-1]
                    filled[-1] = Note(last.offset, snap(last.duration + gap), last.pitch)
                else:
                    filled.append(Note(t, gap, None))
            if nt.offset < beats:
                filled.append(nt)
            t = snap(max(t, nt.offset + nt.duration))
        out.append(filled)
    return out


def _chords(elements, start: float, end: float, n: int, beats: float) -> list[list[Chord]]:
    """Chords per measure (relative offsets), each measure starting with the chord sounding at its bar line."""
    struck: dict[float, tuple[float, set[int]]] = {}
    for e in elements:
        if len(e.pitches) < 2:
            continue  # like the course: single notes (the bass line, fills) are not harmony
        off = snap(e.offset)
        dur, pitches = struck.get(off, (0.0, set()))
        struck[off] = (max(dur, snap(e.quarterLength)), pitches | {p.midi for p in e.pitches})
    chords = [Chord(o, struck[o][0], tuple(sorted(struck[o][1]))) for o in sorted(struck)]
    inside = [c for c in chords if start <= c.offset < end]
    if not inside:
        return []
    before = [c for c in chords if c.offset < start]
    current = before[-1] if before else inside[0]
    out = []
    for i in range(n):
        bar = snap(start + i * beats)
        mine = [Chord(snap(c.offset - bar), c.duration, c.pitches) for c in inside
                if bar <= c.offset < bar + beats]
        if not mine or mine[0].offset > 0:
            mine.insert(0, Chord(0.0, mine[0].offset if mine else beats, current.pitches, carried=True))
        out.append(mine)
        current = Chord(0.0, 0.0, mine[-1].pitches)
    return out


def is_metheny(path) -> bool:
    """Whether `path` is the course's original_metheny.mid (by checksum)."""

    try:
        return sha256_file(path) == METHENY_SHA256
    except OSError:
        return False


def load_section(path, solo_part: int | None = None, chord_part: int | None = None,
                 start: float | None = None, end: float | None = None, beats: float | None = None) -> Section:
    """Read `path` and return its solo and chords cut into measures.

    Unset arguments take the course's values for the Metheny file, and the defaults described at the top of
    this module for any other file. `start`/`end` are offsets in quarter notes (end excluded).
    """
    mf = read_midi(path)
    tracks = scan_tracks(mf)
    name = Path(path).name
    defaults = METHENY if is_metheny(path) else {}
    if solo_part is None or chord_part is None:
        if defaults:
            auto = defaults["solo_part"], defaults["chord_part"]
        else:
            auto = default_parts(tracks, name)
        solo_part = auto[0] if solo_part is None else solo_part
        chord_part = auto[1] if chord_part is None else chord_part
    for label, part in (("solo part", solo_part), ("chord part", chord_part)):
        if not 0 <= part < len(tracks):
            raise UserError(f"{label} {part} does not exist in {name}; expected 0 to {len(tracks) - 1}")
        if tracks[part].drums:
            raise UserError(f"{label} {part} of {name} is a drum track; expected a pitched part")
    beats = float(defaults.get("beats", 4.0) if beats is None else beats)
    if not beats > 0:
        raise UserError(f"beats per measure must be positive, got {beats}")

    solo_el = _part_elements(mf, solo_part)
    events = [(snap(e.offset), snap(e.quarterLength), max(p.midi for p in e.pitches)) for e in solo_el]
    events = [ev for ev in events if ev[1] > 0]
    if not events:
        raise UserError(f"part {solo_part} of {name} has no notes; expected a melody")
    if start is None:
        start = defaults.get("start", math.floor(min(e[0] for e in events) / beats) * beats)
    if end is None:
        end = defaults.get("end", math.ceil(max(e[0] + e[1] for e in events) / beats) * beats)
    start, end = float(start), float(end)
    if not 0 <= start < end:
        raise UserError(f"section {start:g}-{end:g} is empty; expected 0 <= start < end (quarter notes)")
    n = math.ceil(snap((end - start) / beats))
    line = _monophonic(events, start, end)
    if not line:
        raise UserError(f"part {solo_part} of {name} has no notes between offsets {start:g} and {end:g}")

    chord_el = solo_el if chord_part == solo_part else _part_elements(mf, chord_part)
    chords = _chords(chord_el, start, end, n, beats)
    if not chords:
        raise UserError(f"part {chord_part} of {name} has no chords between offsets {start:g} and {end:g}; "
                        f"expected a harmony part with chords there")
    source = {"file": name, "solo_part": solo_part, "chord_part": chord_part, "start": start, "end": end,
              "beats": beats}
    return Section(_measures(line, start, n, beats), chords, beats, source)


def load_melody(path, max_measures: int | None = None, beats: float = 4.0) -> list[list[Note]]:
    """The melody of a MIDI file (the part with the most single notes, as one line: the top note of each
    onset) cut into measures from its first note's measure: notes and rests with offsets from each bar line,
    filling `beats`. At most `max_measures` measures. UserError for a missing, non-MIDI or note-less file."""
    mf = read_midi(path)
    name = Path(path).name
    pitched = [t for t in scan_tracks(mf) if not t.drums and t.notes + t.chords]
    if not pitched:
        raise UserError(f"{name} has no notes (drums aside); expected a MIDI file with a melody")
    part = max(pitched, key=lambda t: (t.notes, -t.part)).part
    events = [(snap(e.offset), snap(e.quarterLength), max(p.midi for p in e.pitches))
              for e in _part_elements(mf, part)]
    events = [ev for ev in events if ev[1] > 0]
    if not events:
        raise UserError(f"{name} has no notes of any length; expected a MIDI file with a melody")
    start = math.floor(min(e[0] for e in events) / beats) * beats
    end = math.ceil(max(e[0] + e[1] for e in events) / beats) * beats
    n = math.ceil(snap((end - start) / beats))
    if max_measures is not None and n > max_measures:
        n, end = max_measures, start + max_measures * beats
    return _measures(_monophonic(events, start, end), start, n, beats)
