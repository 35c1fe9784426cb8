"""The music pipeline: MIDI reading, deepjazz's grammar both ways, the corpus, rendering and the quality figures.

Small hand-made MIDI files cover the failure paths and round trips; the real Metheny file (when it is in the
seqlab cache) is parsed once for this module and checked against the course's set-up and figures.
"""

from __future__ import annotations

import struct
import wave

import numpy as np
import pytest
from music21 import converter, tempo

from conftest import dataset_path
from seqlab.engine.base import one_hot
from seqlab.errors import UserError
from seqlab.music.corpus import build_corpus, training_windows
from seqlab.music.events import Chord, Note, chord_at
from seqlab.music.grammar import Value, grid_round, measure_values, parse_value, realize, tidy
from seqlab.music.harmony import chord_scale, note_class
from seqlab.music.midi import load_section, read_midi, scan_tracks
from seqlab.music.quality import chord_tone_fraction, key_correlation, longest_copied_run, motion_pairs
from seqlab.music.render import read_solo_midi, synthesize, write_midi, write_png, write_wav

# ----------------------------------------------------------------------------------- hand-made MIDI files

TPQ = 480


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _track(notes, channel: int = 0, name: str = "") -> bytes:
    """notes: (start beat, length in beats, pitch) -> an MTrk chunk (channel 0-based; 9 is drums)."""
    events = []
    if name:
        events.append((0, 0, b"\xff\x03" + bytes([len(name)]) + name.encode()))
    for start, length, pitch in notes:
        events.append((int(start * TPQ), 1, bytes([0x90 | channel, pitch, 90])))
        events.append((int((start + length) * TPQ), 0, bytes([0x80 | channel, pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    data, now = b"", 0
    for tick, _, payload in events:
        data += _vlq(tick - now) + payload
        now = tick
    data += _vlq(0) + b"\xff\x2f\x00"
    return b"MTrk" + struct.pack(">I", len(data)) + data


def _smf(*tracks: bytes) -> bytes:
    tempo = b"\x00\xff\x51\x03\x07\xa1\x20\x00\xff\x2f\x00"  # 120 bpm, then end of track
    head = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks) + 1, TPQ)
    return head + b"MTrk" + struct.pack(">I", len(tempo)) + tempo + b"".join(tracks)


MELODY = [(0, 1, 60), (1, 0.5, 64), (1.5, 0.5, 67), (2, 1, 65), (3.5, 0.5, 62),       # measure 0 (rest 3-3.5)
          (4, 0.5, 67), (4.5, 0.5, 69), (5, 2, 71), (7, 1, 72)]                          # measure 1
CHORDS = [(0, 2, p) for p in (48, 52, 55)] + [(2, 2, p) for p in (53, 57, 60)] \
    + [(4, 4, p) for p in (43, 47, 50, 53)]                                             # C, F, G7


@pytest.fixture
def song(tmp_path):
    """A two-measure tune over C, F, G7: melody on its own track, chords on another."""
    p = tmp_path / "song.mid"
    p.write_bytes(_smf(_track(CHORDS, 0, "Keys"), _track(MELODY, 1, "Lead")))
    return p


@pytest.fixture(scope="module")
def metheny():
    return load_section(dataset_path("metheny"))


# ----------------------------------------------------------------------------------- reading MIDI


def test_scan_and_default_parts_pick_melody_and_chords(song):
    tracks = scan_tracks(read_midi(song))
    assert [(t.name, t.notes, t.chords, t.drums) for t in tracks] == [("Keys", 0, 3, False),
                                                                      ("Lead", 9, 0, False)]
    s = load_section(song)
    assert (s.source["solo_part"], s.source["chord_part"], s.source["start"], s.source["end"]) == (1, 0, 0, 8)
    assert [(n.offset, n.duration, n.pitch) for n in s.measures[0]] == [
        (0, 1, 60), (1, 0.5, 64), (1.5, 0.5, 67), (2, 1, 65), (3, 0.5, None), (3.5, 0.5, 62)]
    assert [(c.offset, c.pitches, c.carried) for c in s.chords[1]] == [(0, (43, 47, 50, 53), False)]
    assert [c.offset for c in s.chords[0]] == [0, 2]


def test_section_offsets_and_carried_chord(song):
    s = load_section(song, solo_part=1, chord_part=0, start=1, end=5)
    assert len(s) == 1 and s.beats == 4
    # the C chord struck at beat 0 is still sounding at the section's start, and F comes at beat 1
    assert [(c.offset, c.pitches, c.carried) for c in s.chords[0]] == [
        (0, (48, 52, 55), True), (1, (53, 57, 60), False), (3, (43, 47, 50, 53), False)]
    assert sum(n.duration for n in s.measures[0]) == 4


def test_voices_merge_into_one_line_top_note_kept(tmp_path):
    two_voices = [(0, 2, 60), (0, 1, 67), (1, 1, 65), (2, 2, 64), (3, 1, 62)]
    p = tmp_path / "voices.mid"
    p.write_bytes(_smf(_track(CHORDS, 0), _track(two_voices, 1)))
    s = load_section(p, solo_part=1, chord_part=0, start=0, end=4)
    assert [(n.offset, n.duration, n.pitch) for n in s.measures[0]] == [
        (0, 1, 67), (1, 1, 65), (2, 1, 64), (3, 1, 62)]


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "is empty"),
    (b"hello, these are not notes\n", "not a MIDI file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00", "not a readable MIDI file"),
])
def test_bad_files_are_user_errors(tmp_path, content, message):
    p = tmp_path / "bad.mid"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_section(p)


def test_midi_without_notes(tmp_path):
    p = tmp_path / "silent.mid"
    p.write_bytes(_smf())
    with pytest.raises(UserError, match="has no notes"):
        load_section(p)


def test_drums_only(tmp_path):
    p = tmp_path / "drums.mid"
    p.write_bytes(_smf(_track([(i * 0.5, 0.25, 36 + i % 3) for i in range(16)], channel=9)))
    with pytest.raises(UserError, match="only drum tracks"):
        load_section(p)


def test_no_chords(tmp_path):
    p = tmp_path / "tune.mid"
    p.write_bytes(_smf(_track(MELODY, 0)))
    with pytest.raises(UserError, match="no chords"):
        load_section(p)
    longer = tmp_path / "longer.mid"
    longer.write_bytes(_smf(_track(CHORDS, 0), _track(MELODY + [(8, 1, 60), (9, 1, 62)], 1)))
    with pytest.raises(UserError, match="part 0 of longer.mid has no chords between offsets 8 and 12"):
        load_section(longer, solo_part=1, chord_part=0, start=8, end=12)


def test_bad_parts_and_sections(song):
    with pytest.raises(UserError, match="solo part 7 does not exist"):
        load_section(song, solo_part=7)
    with pytest.raises(UserError, match="section 4-4 is empty"):
        load_section(song, start=4, end=4)
    with pytest.raises(UserError, match="no notes between"):
        load_section(song, solo_part=1, chord_part=0, start=8, end=12)


# ----------------------------------------------------------------------------------- harmony and grammar


def test_note_classes_over_c_major_and_a_minor():
    c_major, a_minor = (48, 52, 55), (57, 60, 64)
    assert chord_scale(c_major) == frozenset({0, 2, 4, 5, 7, 9, 11})
    assert [note_class(p, c_major) for p in (64, 62, 61, 66, 70)] == ["C", "S", "A", "A", "X"]
    assert chord_scale(a_minor) == frozenset({7, 9, 11, 0, 2, 4, 6})  # A Dorian
    assert [note_class(p, a_minor) for p in (69, 66, 65, 68)] == ["C", "S", "A", "A"]
    assert "X" not in {note_class(p, a_minor) for p in range(60, 72)}  # every other tone neighbours A, C or E


def test_values_of_a_measure(song):
    s = load_section(song)
    assert measure_values(s.measures[0], s.chords[0]) == [
        "C,1.000", "C,0.500,<P5,m2>", "C,0.500,<d5,P1>", "C,1.000,<m2,P-4>", "R,0.500", "S,0.500,<P1,d-5>"]
    for v in measure_values(s.measures[1], s.chords[1]):
        assert str(parse_value(v)) == v


def test_parse_value_rejects_garbage():
    assert parse_value("A,0.333,<M3,M-2>") == Value("A", 0.333, 4, -2)
    for bad in ("Q,0.250", "C", "C,-1", "C,0.250,<m3>", "C,abc"):
        with pytest.raises(ValueError, match="value"):
            parse_value(bad)


def test_grid_round():
    assert [grid_round(t) for t in (0.1, 0.3, 0.45, 0.6, 0.72, 0.917, 1.1)] == [
        0.0, 1 / 3, 0.5, 2 / 3, 0.75, 1.0, 1.0]


def test_realize_keeps_classes_ranges_and_fills_the_measure():
    chords = [Chord(0, 2, (48, 52, 55)), Chord(2, 2, (53, 57, 60))]
    values = ["C,1.000", "S,0.500,<m3,M-2>", "A,0.500,<M2,M-3>", "R,0.333", "C,0.667,<P5,m2>", "X,0.250",
              "C,2.000"]
    rng = np.random.default_rng(1)
    for _ in range(20):
        notes = realize(values, chords, rng, prev=64)
        assert [n.offset for n in notes] == [0, 1, 1.5, 2, 7 / 3, 3, 3.25]
        assert notes[-1].end == 4  # cut at the bar line
        kinds = [parse_value(v).kind for v in values]
        for n, k in zip(notes, kinds):
            assert (n.pitch is None) == (k == "R")
            if k in "CSA":
                assert note_class(n.pitch, chord_at(chords, n.offset).pitches) == k
        assert abs(notes[0].pitch - 64) <= 5                  # first note stays near the previous one
        assert -2 <= notes[1].pitch - notes[0].pitch <= 3     # within <m3,M-2>
        assert 1 <= notes[4].pitch - notes[2].pitch <= 7      # within <P5,m2> of the last note


def test_tidy_removes_collisions_overlaps_and_repeats():
    notes = [Note(0, 1, 60), Note(0, 0.5, 72),          # collision: the first stays
             Note(0.9, 0.6, 62),                          # onset snaps to 1; overlaps the next
             Note(1.25, 0.25, 64), Note(1.5, 0.5, 64),   # repeat: merged
             Note(2, 0.1, 65),                            # rounds to nothing
             Note(3, 1, None), Note(3, 1, 67)]            # rest dropped
    assert tidy(notes) == [Note(0, 1, 60), Note(1, 0.25, 62), Note(1.25, 0.75, 64), Note(3, 1, 67)]


# ----------------------------------------------------------------------------------- corpus


def test_training_windows_are_shifted_slices():
    ids = np.arange(100) % 37
    x, y = training_windows(ids, m=60, Tx=30, rng=np.random.default_rng(0))
    assert x.shape == y.shape == (30, 60) and x.dtype == y.dtype == np.int64
    assert (x[0] == -1).all() and (x[1:] == y[:-1]).all()
    text = ",".join(map(str, ids))
    for b in range(60):
        assert ",".join(map(str, y[:, b])) in text
    oh = one_hot(x, 37)
    assert oh.shape == (30, 60, 37) and oh[0].sum() == 0 and (oh[1:].sum(-1) == 1).all()
    with pytest.raises(ValueError, match="more than Tx"):
        training_windows(ids[:30], Tx=30)


# ----------------------------------------------------------------------------------- rendering


def test_midi_written_with_named_parts_and_tempo(tmp_path):
    notes = [Note(0, 1, 60), Note(1, 1 / 3, 62), Note(4 / 3, 2 / 3, 64), Note(3, 0.25, 65)]
    chords = [Chord(0, 4, (48, 52, 55))]
    out = write_midi(tmp_path / "solo.mid", notes, chords)
    score = converter.parse(str(out))
    assert [p.partName for p in score.parts] == ["Solo", "Chords"]
    assert {m.number for m in score.flatten().getElementsByClass(tempo.MetronomeMark)} == {130}
    assert read_solo_midi(out) == (notes, chords)
    assert [p.name for p in tmp_path.iterdir()] == ["solo.mid"]  # no temporary file left behind


def test_wav_and_png(tmp_path):
    notes = [Note(0, 1, 69), Note(1, 1, 72)]
    chords = [Chord(0, 2, (57, 60, 64))]
    audio = synthesize(notes, chords)
    assert audio.dtype == np.float32 and 0.85 < np.abs(audio).max() <= 0.9 + 1e-6
    spectrum = np.abs(np.fft.rfft(audio[:11025]))          # the first half second: A4 over A minor
    freqs = np.fft.rfftfreq(11025, 1 / 22050)
    assert abs(freqs[spectrum.argmax()] - 440) < 3
    with wave.open(str(write_wav(tmp_path / "a.wav", notes, chords))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert abs(w.getnframes() / 22050 - (2 * 60 / 130 + 0.5)) < 0.01
    png = write_png(tmp_path / "a.png", notes, chords).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


# ----------------------------------------------------------------------------------- quality figures


def test_chord_tone_fraction_weights_by_duration():
    chords = [Chord(0, 2, (48, 52, 55)), Chord(2, 2, (53, 57, 60))]
    notes = [Note(0, 1, 60), Note(1, 1, 62), Note(2, 1.5, 65), Note(3.5, 0.5, 64), Note(1, 1, None)]
    assert chord_tone_fraction(notes, chords) == pytest.approx(2.5 / 4)


def test_key_correlation_of_a_scale():
    scale = [Note(i, 1, p) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60))]
    key, r = key_correlation(scale)
    assert key == "C major" and r > 0.8


def test_longest_copied_run():
    train = [Note(i * 0.5, 0.5, p) for i, p in enumerate((60, 62, 64, 65, 67, 65, 64, 62))]
    assert motion_pairs(train)[:2] == [(2, 0.5), (2, 0.5)]
    # the same motion transposed, with one different step in the middle
    gen = [Note(i * 0.5, 0.5, p) for i, p in enumerate((50, 52, 54, 55, 57, 58, 57, 55))]
    assert longest_copied_run(gen, train) == 4
    assert longest_copied_run(train, train) == 7


# ----------------------------------------------------------------------------------- the Metheny solo


@pytest.mark.data
def test_metheny_section_as_in_the_course(metheny):
    s = metheny
    assert s.source == {"file": "original_metheny.mid", "solo_part": 5, "chord_part": 0, "start": 476.0,
                        "end": 548.0, "beats": 4.0}
    assert len(s) == 18
    for notes, chords in zip(s.measures, s.chords):
        assert sum(n.duration for n in notes) == pytest.approx(4)
        assert chords[0].offset == 0 and all(len(c.pitches) >= 2 for c in chords)
    assert s.measures[0][0] == Note(0, 2 / 3, 75)  # E-5, the first note of the course's section


@pytest.mark.data
def test_metheny_corpus_and_figures(metheny):
    corpus = build_corpus(metheny)
    assert len(corpus.values) == 226 and corpus.n_values == 91  # the course: 78 to 90
    assert corpus.values[:3] == ["C,0.667", "C,0.333,<P1,d-5>", "R,0.333"]
    solo, chords = metheny.solo_notes(), metheny.all_chords()
    assert chord_tone_fraction(solo, chords) == pytest.approx(0.626, abs=0.002)  # the issue: about 63%
    key, r = key_correlation(solo)
    assert key == "F major" and r == pytest.approx(0.827, abs=0.002)


@pytest.mark.data
def test_metheny_values_replay_with_the_same_classes(metheny):
    corpus = build_corpus(metheny)
    rng = np.random.default_rng(0)
    for values, chords in zip(corpus.measures, corpus.chords):
        back = measure_values(realize(values, chords, rng), chords)
        assert len(back) == len(values)
        for a, b in zip(values, back):
            if a[0] != "X":  # "other" may land on any pitch
                assert a[0] == b[0]
