"""Jazz over written changes: quality over every built-in progression, tempo, instrument, swing, the primer,
the WAV with its comping voice, chord symbols on the piano roll, and bad input from `seqlab jazz`."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from music21 import converter, tempo

from seqlab.cli import main
from seqlab.errors import UserError
from seqlab.music import quality
from seqlab.music.bundle import load_bundle
from seqlab.music.changes import CHANGES, builtin, parse_symbol
from seqlab.music.events import Chord, Note
from seqlab.music.improvise import generate_values, nearest_value
from seqlab.music.perform import check, figures, perform, write_take
from seqlab.music.render import (
    find_instrument,
    piano_roll,
    read_solo_midi,
    swung,
    write_wav,
)
from test_music import _smf, _track


@pytest.fixture(scope="module")
def bundle():
    return load_bundle()


def _read_wav(path):
    with wave.open(str(path)) as w:
        fmt = (w.getnchannels(), w.getsampwidth(), w.getframerate())
        return fmt, np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


# ----------------------------------------------------------------------------------- quality over other changes


@pytest.mark.parametrize("name", list(CHANGES))
def test_quality_over_every_builtin_progression(bundle, name):
    changes = builtin(name)
    take = perform(bundle, changes=changes, choruses=2, seed=0)
    solo, r = take.solo, figures(take, bundle)
    assert take.measures == 2 * len(changes) and max(n.end for n in solo.notes) <= 2 * len(changes) * 4
    line = sorted(solo.notes, key=lambda n: n.offset)
    assert all(a.end <= b.offset for a, b in zip(line, line[1:])) and r["monophonic"]
    lo, hi = bundle.register
    assert all(lo - 5 <= n.pitch <= hi + 5 for n in solo.notes)                    # a playable register
    assert (r["lowest"], r["highest"]) == (min(n.pitch for n in solo.notes), max(n.pitch for n in solo.notes))
    assert quality.chord_tone_fraction(solo.notes, solo.chords) == r["chord_tone_fraction"] >= 0.50
    assert quality.longest_copied_run(solo.notes, bundle.training) == r["longest_copied_run"] <= 8
    symbols = [c.text for m in changes for c in m]
    assert [c.name for c in solo.chords] == symbols * 2                            # the changes, twice


def test_is_monophonic():
    assert quality.is_monophonic([Note(0, 1, 60), Note(1, 0.5, 62), Note(1, 1, None), Note(2, 1, 64)])
    assert not quality.is_monophonic([Note(0, 1.25, 60), Note(1, 0.5, 62)])
    assert not quality.is_monophonic([Note(2, 1, 64), Note(0, 1, 60), Note(2, 0.5, 67)])


# ----------------------------------------------------------------------------------- sound and feel


def test_wav_has_the_comping_voice_below_the_solo(tmp_path):
    c = parse_symbol("C")                                    # voiced C2, E3, G3
    notes, chords = [Note(0, 4, 69)], [Chord(0, 4, c.voicing(), name="C")]
    fmt, x = _read_wav(write_wav(tmp_path / "a.wav", notes, chords, tempo=60))
    assert fmt == (1, 2, 22050)
    assert 20 * np.log10(np.abs(x).max()) <= -1.0                                  # never clipping
    seg = x[2205:2205 + 22050]                                                     # 0.1 s to 1.1 s: 1 Hz bins
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    level = {f: spectrum[round(f) - 2:round(f) + 3].max() for f in (440.0, 65.41, 164.81, 196.0)}
    floor = np.median(spectrum)
    assert max(level, key=level.get) == 440.0                                      # the solo on top
    assert all(level[f] > 50 * floor for f in (65.41, 164.81, 196.0))               # the chord is heard
    assert max(c.voicing()) < 69


def test_piano_roll_names_the_chords(bundle):
    take = perform(bundle, changes="Dm7 G7 | Cmaj7 | Bb7/Ab", seed=1)
    fig = piano_roll(take.heard(), take.solo.chords, take.solo.beats)
    labels = [(t.get_text(), t.get_position()[0]) for t in fig.axes[0].texts]
    assert [s for s, _ in labels] == ["Dm7", "G7", "Cmaj7", "Bb7/Ab"]
    assert [x for _, x in labels] == pytest.approx([0.05, 2.05, 4.05, 8.05])


def test_swing_moves_the_offbeat_eighths():
    straight = [Note(0, 0.5, 60), Note(0.5, 0.5, 62), Note(1, 1, 64), Note(2.5, 1.5, 65)]
    assert swung(straight, 0.5) == straight
    s = swung(straight, 2 / 3)
    assert [n.offset for n in s] == pytest.approx([0, 2 / 3, 1, 2 + 2 / 3])
    assert [n.offset + n.duration for n in s] == pytest.approx([2 / 3, 1, 2, 4])


def test_tempo_instrument_and_swing_reach_the_midi(tmp_path, bundle):
    take = perform(bundle, changes="C6 | A7 | Dm7 G7 | C6", bpm=96, instrument="trumpet", swing=2 / 3, seed=0)
    assert take.instrument == "Trumpet"
    (midi,) = write_take(take, midi=tmp_path / "t.mid")
    score = converter.parse(str(midi))
    assert {m.number for m in score.flatten().getElementsByClass(tempo.MetronomeMark)} == {96}
    assert [i.midiProgram for i in score.parts[0].getInstruments()][-1] == 56       # General MIDI trumpet
    notes, chords = read_solo_midi(midi)
    offbeats = [n for n in take.solo.notes if (n.offset % 1) == 0.5]
    assert offbeats, "the solo has off-beat eighths to swing"
    heard = {round(n.offset, 3) for n in notes}
    assert all(round(n.offset + 1 / 6, 3) in heard for n in offbeats)
    assert [c.pitches for c in chords[:4]] == [parse_symbol(s).voicing() for s in ("C6", "A7", "Dm7", "G7")]


def test_instrument_names_come_from_music21():
    assert find_instrument("Alto Saxophone").midiProgram == 65
    assert find_instrument("Vibraphone").midiProgram == 11
    with pytest.raises(UserError, match=r"unknown instrument 'Trumpt'.*close matches: Trumpet"):
        find_instrument("Trumpt")
    with pytest.raises(UserError, match="unknown instrument 'Woodblock'"):   # unpitched percussion
        find_instrument("Woodblock")


# ----------------------------------------------------------------------------------- the primer


def test_primer_opens_the_solo_and_sets_the_state(tmp_path, bundle):
    idea = [(0, 0.5, 65), (0.5, 0.5, 67), (1, 1, 69), (2, 2, 72), (4, 1, 70), (5, 1, 69), (6, 2, 67),
            (8, 4, 65)]                                       # three measures; the first two are used
    path = tmp_path / "idea.mid"
    path.write_bytes(_smf(_track([(t + 8, d, p) for t, d, p in idea], 0, "Idea")))  # starts in measure 3
    take = perform(bundle, changes="F6 | Gm7 C7 | F6 | F6", primer=path, seed=0)
    assert take.primer_measures == 2
    opening = [(n.offset, n.duration, n.pitch) for n in take.solo.notes if n.offset < 8]
    assert opening == [(t, d, p) for t, d, p in idea if t < 8]
    # the model read the primer's values: its continuation is what the LSTM writes after them
    index = {v: i for i, v in enumerate(bundle.vocab)}
    start = [index.get(v) if v in index else nearest_value(v, bundle.vocab) for m in take.solo.values[:2]
             for v in m]
    after = generate_values(bundle, 2, np.random.default_rng(0), 0.0, start)
    assert take.solo.values[2:] == after
    assert after != generate_values(bundle, 2, np.random.default_rng(0), 0.0)[:2]


def test_nearest_value():
    vocab = ["C,0.250", "C,0.500,<M2,m-2>", "S,0.500,<m3,M-2>", "R,0.500"]
    assert [nearest_value(v, vocab) for v in vocab] == [0, 1, 2, 3]
    assert nearest_value("C,0.333", vocab) == 0                 # same kind, no range
    assert nearest_value("C,1.000,<P4,P1>", vocab) == 1         # same kind, a range
    assert nearest_value("A,0.500,<m3,M-2>", vocab) == 2        # no approach tones: the nearest otherwise


# ----------------------------------------------------------------------------------- seqlab jazz


def test_cli_changes_wav_and_png(tmp_path, capsys):
    out = tmp_path / "blues.mid"
    assert main(["jazz", "--changes", "ii-v-i", "--choruses", "2", "--bpm", "200", "--swing", "0.6",
                 "--instrument", "Vibraphone", "--wav", "--png", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "(8 measures over the changes" in text and "Vibraphone" in text and "200 bpm, swing 0.6" in text
    fmt, x = _read_wav(out.with_suffix(".wav"))
    assert fmt == (1, 2, 22050) and 20 * np.log10(np.abs(x).max()) <= -1.0
    assert abs(len(x) / 22050 - 8 * 4 * 60 / 200) < 1.0
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_cli_chords_file_and_list(tmp_path, capsys):
    f = tmp_path / "tune.txt"
    f.write_text("# a turnaround\nCmaj7 A7\nDm7 G7 | %\n")
    assert main(["jazz", "--chords-file", str(f), "--choruses", "3", "-o", str(tmp_path / "t.mid")]) == 0
    assert "(9 measures over the changes" in capsys.readouterr().out
    _, chords = read_solo_midi(tmp_path / "t.mid")
    assert len(chords) == 3 * 6 and chords[0].pitches == parse_symbol("Cmaj7").voicing()
    assert main(["jazz", "--list-changes"]) == 0
    listing = capsys.readouterr().out
    for name, text in CHANGES.items():
        assert name in listing and text in listing


def _no_notes(d):
    (d / "silent.mid").write_bytes(_smf())


@pytest.mark.parametrize("make, args, message", [
    (None, ["--chords", ""], "--chords is empty"),
    (None, ["--chords", "Dm7 G7 | | Cmaj7"], "measure 2 of --chords has no chord"),
    (None, ["--chords", "Dm7 | G7 | Cmaj9x"], "'Cmaj9x' in measure 3"),
    (None, ["--bpm", "0"], "bpm must be between 40 and 300"),
    (None, ["--swing", "0.9"], "swing must be between 0.5 and 0.75"),
    (None, ["--changes", "blues", "--choruses", "0"], "choruses must be a whole number of at least 1"),
    (None, ["--instrument", "Kazoo9000"], "unknown instrument 'Kazoo9000'"),
    (None, ["--changes", "giant-steps"], "no built-in changes named 'giant-steps'"),
    (lambda d: (d / "p.mid").write_text("la la la"), ["--primer", "{d}/p.mid"], "not a MIDI file"),
    (_no_notes, ["--primer", "{d}/silent.mid"], "has no notes"),
])
def test_cli_bad_input_leaves_files_alone(tmp_path, capsys, make, args, message):
    if make:
        make(tmp_path)
    out = tmp_path / "x.mid"
    out.write_bytes(b"MThd an earlier take")   # a MIDI file may be replaced
    argv = ["jazz", "-o", str(out), "--wav", "--png"] + [a.format(d=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert out.read_bytes() == b"MThd an earlier take"
    assert not out.with_suffix(".wav").exists() and not out.with_suffix(".png").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary files


def test_choruses_over_the_models_own_chords(bundle):
    take = perform(bundle, choruses=1, measures=3)          # --measures gives way to --choruses
    assert take.measures == len(bundle.progression) == 18 and take.changes is None
    assert perform(bundle, measures=3).measures == 3


def test_check_resolves_settings_for_a_second_call(tmp_path):
    s = check(changes="Dm7 G7 | Cmaj7", instrument="alto saxophone", choruses=2)
    assert [[c.text for c in m] for m in s["changes"]] == [["Dm7", "G7"], ["Cmaj7"]]
    assert s["instrument"] == "Alto Saxophone" and check(**s) == s
    with pytest.raises(UserError, match="would last 1200 measures"):
        check(changes="C | F", choruses=600)


@pytest.mark.parametrize("settings, says", [
    ({"choruses": 2.5, "changes": "C7"}, "choruses must be a whole number of at least 1, got 2.5"),
    ({"measures": 2.5}, "measures must be a whole number between 1 and 1000, got 2.5"),   # a TypeError later
    ({"seed": -1}, "seed must be a whole number of at least 0, got -1"),                  # NumPy's error
    ({"temperature": float("inf")}, "temperature must be 0"),                            # sampled uniformly
    ({"temperature": float("nan")}, "temperature must be 0"),                # a solo of vocab[0] only
    ({"primer": [[1, 2]]}, "primer: expected a MIDI file or measures"),      # an AttributeError
])
def test_perform_settings_are_checked_before_anything_is_played(settings, says):
    with pytest.raises(UserError, match=says):
        perform(load_bundle(), **settings)


def test_improvise_refuses_an_empty_progression():
    from seqlab.music.improvise import improvise

    for progression in ([], [[]]):               # a ZeroDivisionError and an IndexError
        with pytest.raises(ValueError, match="progression: expected at least one measure"):
            improvise(load_bundle(), 4, progression=progression)
