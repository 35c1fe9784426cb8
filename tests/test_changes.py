"""Chord changes as players write them: symbols to pitch classes, the measure notation, built-in progressions."""

from __future__ import annotations

import pytest

from seqlab.errors import UserError
from seqlab.music.changes import (
    CHANGES,
    TITLES,
    builtin,
    parse_changes,
    parse_symbol,
    read_changes,
    to_chords,
)

C, Db, D, Eb, E, F, Gb, G, Ab, A, Bb, B = range(12)


@pytest.mark.parametrize("symbol, root, pcs", [
    ("Bb7", Bb, {Bb, D, F, Ab}),            # music21 alone would read B with a flat seventh
    ("Bbmaj7", Bb, {Bb, D, F, A}),
    ("Ebm7", Eb, {Eb, Gb, Bb, Db}),
    ("C7", C, {C, E, G, Bb}),
    ("Bm7b5", B, {B, D, F, A}),
    ("Bbm7b5", Bb, {Bb, Db, E, Ab}),          # B♭-D♭-F♭-A♭
    ("F#dim7", Gb, {Gb, A, C, Eb}),
    ("Eb6", Eb, {Eb, G, Bb, C}),
    ("Gm6", G, {G, Bb, D, E}),
    ("Dsus4", D, {D, G, A}),
    ("G7#9", G, {G, B, D, F, Bb}),
    ("Ab7b9", Ab, {Ab, C, Eb, Gb, A}),
    ("Db9", Db, {Db, F, Ab, B, Eb}),
    ("G13", G, {G, B, D, F, A, E}),            # no natural 11th (C) over the major third
    ("Cm(maj7)", C, {C, Eb, G, B}),
    ("CmM7", C, {C, Eb, G, B}),
    ("C-7", C, {C, Eb, G, Bb}),                 # players' spellings music21 does not read
    ("Cø", C, {C, Eb, Gb, Bb}),
    ("C6/9", C, {C, E, G, A, D}),
    ("E♭Δ7", Eb, {Eb, G, Bb, D}),
    ("F#m7b5", Gb, {Gb, A, C, E}),
    ("Eb7(#9)", Eb, {Eb, G, Bb, Db, Gb}),       # alterations in brackets
    ("C7(b9,#11)", C, {C, E, G, Bb, Db, Gb}),
    ("C9sus", C, {C, F, G, Bb, D}),
    ("G7alt", G, {G, B, Eb, F, Bb}),            # the altered dominant: raised fifth and ninth
])
def test_symbol_pitch_classes(symbol, root, pcs):
    cs = parse_symbol(symbol)
    assert cs.root == root and cs.bass == root and cs.pitch_classes == frozenset(pcs), symbol
    v = cs.voicing()
    assert {p % 12 for p in v} == pcs and v[0] % 12 == root and 36 <= v[0] < 48
    assert list(v) == sorted(v) and all(52 <= p < 64 for p in v[1:])


@pytest.mark.parametrize("symbol, root, bass, pcs", [
    ("C7/E", C, E, {C, E, G, Bb}),
    ("Bb7/Ab", Bb, Ab, {Bb, D, F, Ab}),
    ("Bb6/F", Bb, F, {Bb, D, F, G}),
    ("C/Bb", C, Bb, {C, E, G, Bb}),             # a bass outside the chord is added to it
])
def test_slash_chords(symbol, root, bass, pcs):
    cs = parse_symbol(symbol)
    assert (cs.root, cs.bass, cs.pitch_classes) == (root, bass, frozenset(pcs))
    assert cs.voicing()[0] % 12 == bass and min(cs.voicing()) == cs.voicing()[0]


def test_measures_share_beats_and_repeat():
    text = "| Dm7 G7 | Cmaj7 | % |\n# the turnaround\nAm7 D7 G7   # three in a bar\n\nC6"
    measures = parse_changes(text)
    assert [[c.text for c in m] for m in measures] == [["Dm7", "G7"], ["Cmaj7"], ["Cmaj7"],
                                                        ["Am7", "D7", "G7"], ["C6"]]
    chords = to_chords(measures)
    assert [(c.offset, c.duration, c.name) for c in chords[0]] == [(0, 2, "Dm7"), (2, 2, "G7")]
    assert [c.offset for c in chords[3]] == pytest.approx([0, 4 / 3, 8 / 3], abs=1e-9)
    assert chords[2][0].pitches == parse_symbol("Cmaj7").voicing()


def test_a_sharp_is_not_a_comment():
    # "#" used to start a comment wherever it stood: "F#m7 | B7 | Emaj7" was read as one measure of F
    text = "F#m7 | B7 | Emaj7 C7#9   # a comment\n#another\n| C#m7 |# after a bar line"
    measures = parse_changes(text)
    assert [[c.text for c in m] for m in measures] == [["F#m7"], ["B7"], ["Emaj7", "C7#9"], ["C#m7"]]
    assert measures[0][0].pitch_classes == frozenset({Gb, A, Db, E})


def test_spaces_inside_brackets_belong_to_the_symbol():
    # "C7(b9, #11)" used to be cut at the space, and " #11)" read as a comment: C7b9, silently
    measures = parse_changes("C7(b9, #11) | Eb7( #9 ) Ab  # end")
    assert [[c.text for c in m] for m in measures] == [["C7(b9,#11)"], ["Eb7(#9)", "Ab"]]
    assert measures[0][0].pitch_classes == frozenset({C, E, G, Bb, Db, Gb})


@pytest.mark.parametrize("text, message", [
    ("", "--chords is empty"),
    ("  # only a comment\n", "--chords is empty"),
    ("Dm7 G7 || Cmaj7", "measure 2 of --chords has no chord"),
    ("% | C", "measure 1 of --chords is %"),
    ("Dm7 | G7 | Cmaj77", "unknown chord symbol 'Cmaj77' in measure 3 of --chords"),
    ("Dm7 | H7", "unknown chord symbol 'H7' in measure 2"),
    ("C7b G7", "unknown chord symbol 'C7b' in measure 1"),      # music21 would guess C-B♭
    ("C7( | F", "unknown chord symbol 'C7\\(' in measure 1"),   # malformed brackets are not a symbol
    ("Cmaj7)", "unknown chord symbol 'Cmaj7\\)'"),
    ("C7,", "unknown chord symbol 'C7,'"),
    ("C()", "unknown chord symbol 'C\\(\\)'"),
    ("C7(b9,)", "unknown chord symbol 'C7\\(b9,\\)'"),
    ("C7 (b9)", "unknown chord symbol '\\(b9\\)'"),
])
def test_bad_changes_name_the_measure(text, message):
    with pytest.raises(UserError, match=message) as err:
        parse_changes(text, "--chords")
    assert "\n" not in str(err.value)


def test_builtin_progressions():
    lengths = {"blues": 12, "minor-blues": 12, "ii-v-i": 4, "rhythm": 8}
    for name, n in lengths.items():
        assert len(builtin(name)) == n and name in TITLES
    assert [c.text for c in builtin("blues")[0]] == ["F7"] and builtin("minor-blues")[0][0].root == C
    assert builtin("rhythm")[0][0].root == Bb and builtin("ii-v-i")[2][0].text == "Cmaj7"
    assert set(CHANGES) == set(TITLES)
    with pytest.raises(UserError, match="expected one of blues, minor-blues"):
        builtin("giant-steps")


def test_changes_file(tmp_path):
    f = tmp_path / "tune.txt"
    f.write_text("# a ii-V\nDm7 G7\nCmaj7 | %\n")
    assert [[c.text for c in m] for m in read_changes(f)] == [["Dm7", "G7"], ["Cmaj7"], ["Cmaj7"]]
    f.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UserError, match="not UTF-8 text"):
        read_changes(f)
    with pytest.raises(UserError, match="no such file"):
        read_changes(tmp_path / "missing.txt")
    (tmp_path / "bad.txt").write_text("C | Q7\n")
    with pytest.raises(UserError, match="'Q7' in measure 2 of bad.txt"):
        read_changes(tmp_path / "bad.txt")


def test_to_chords_refuses_what_would_make_chords_of_no_length():
    measures = parse_changes("C7 | F")
    for beats in (0, -4, float("nan"), True):              # 0 and -4 gave chords of zero and negative length
        with pytest.raises(ValueError, match="beats must be a positive number"):
            to_chords(measures, beats)
    for bad in ([[]], [["C7"]]):                            # a ZeroDivisionError, an AttributeError
        with pytest.raises(ValueError, match="measure 1: expected a non-empty list of ChordSymbols"):
            to_chords(bad)
