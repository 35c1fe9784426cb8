"""Corrupted and hostile files, fed to every loader a user can point at a file: checkpoints, text corpora,
MIDI files and the dataset import. Each gives a UserError (one line and exit 2 from the CLI), never a traceback,
never memory beyond the file's own size, never a half-written output. Property-based (hypothesis), seeded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab import data
from seqlab.checkpoint import load_checkpoint, save_checkpoint
from seqlab.cli import main
from seqlab.errors import UserError
from seqlab.music.bundle import default_path, load_bundle
from seqlab.music.changes import parse_changes, read_changes, to_chords
from seqlab.music.midi import load_section
from seqlab.text import corpus
from seqlab.text.data import prepare_data
from seqlab.text.evaluate import evaluate_file
from seqlab.text.model import CharModel, LanguageModel, load_model
from seqlab.text.train_config import TrainConfig
from seqlab.text.vocab import Vocabulary
from test_music import CHORDS, MELODY, _smf, _track

FUZZ = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW_FUZZ = settings(FUZZ, max_examples=15)


def _tiny_model() -> LanguageModel:
    vocab = Vocabulary.from_text("\nabc")
    model = CharModel(vocab.size, "lstm", hidden=5, embed=3, rng=np.random.default_rng(0))
    return LanguageModel(model, vocab, True, "lines", frozenset({"ab", "cab"}))


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A small valid text checkpoint."""
    p = tmp_path_factory.mktemp("good") / "good.npz"
    _tiny_model().save(p)
    return p


def _loads_same_or_refuses(path, original: dict) -> None:
    """load_model(path) is a UserError, or (a byte that nothing reads, like a zip timestamp) the same model."""
    try:
        lm = load_model(path)
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    got = lm.model.arrays()
    assert got.keys() == original.keys()
    for k in got:
        np.testing.assert_array_equal(got[k], original[k])


# ----------------------------------------------------------------------------------- checkpoints
@FUZZ
@given(cut=st.floats(0.0, 0.9999))
def test_truncated_checkpoints(good, tmp_path, cut):
    blob = good.read_bytes()
    p = tmp_path / "cut.npz"
    p.write_bytes(blob[: int(len(blob) * cut)])
    with pytest.raises(UserError):
        load_model(p)


@FUZZ
@given(flips=st.lists(st.tuples(st.floats(0, 0.9999), st.integers(1, 255)), min_size=1, max_size=4))
def test_flipped_bytes(good, tmp_path, flips):
    blob = good.read_bytes()
    b = bytearray(blob)
    for where, mask in flips:
        b[int(where * len(b))] ^= mask
    p = tmp_path / "flipped.npz"
    p.write_bytes(bytes(b))
    _loads_same_or_refuses(p, _tiny_model().model.arrays())


@FUZZ
@given(blob=st.one_of(st.binary(min_size=1, max_size=2000),
                      st.binary(max_size=2000).map(lambda b: b"PK\x03\x04" + b),
                      st.binary(max_size=2000).map(lambda b: b"\x93NUMPY" + b)))
def test_random_bytes(tmp_path, blob):
    p = tmp_path / "noise.npz"
    p.write_bytes(blob)
    with pytest.raises(UserError):
        load_model(p)


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, b in members.items():
            zf.writestr(name, b)
    return buf.getvalue()


def _npy(a: np.ndarray, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("model.npy")
        payload = _npy(np.zeros(3))
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


@pytest.mark.parametrize("blob, words", [
    (_zip({"readme.txt": b"hello"}), "not an .npy array"),
    (_zip({"w.npy": _npy(np.zeros(3))}, zipfile.ZIP_DEFLATED), "uncompressed"),
    (_zip({"w.npy": _npy(np.zeros(3))}), "without seqlab metadata"),
    (_zip({"__meta__.npy": _npy(np.frombuffer(b"[1, 2]", np.uint8))}), "format is not"),
    (_zip({"__meta__.npy": _npy(np.frombuffer(b"\xff\xfe", np.uint8))}), "not UTF-8 JSON"),
    (_zip({"__meta__.npy": _npy(np.zeros(3))}), "bad metadata entry"),
    (_tar(), "not an .npz archive"),
    (b"\x1f\x8b\x08\x00" + bytes(40), "not an .npz archive"),
    (_npy(np.zeros(3)), "single .npy array"),
])
def test_wrong_archives(tmp_path, blob, words):
    p = tmp_path / "wrong.npz"
    p.write_bytes(blob)
    with pytest.raises(UserError, match=words):
        load_model(p)


def test_pickled_object_is_never_unpickled(tmp_path):
    """A member holding a pickle whose loading would run code: refused, and the code never runs."""
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    members = {"w.npy": _npy(np.array([Boom()], dtype=object), allow_pickle=True),
               "__meta__.npy": _npy(np.frombuffer(json.dumps(
                   {"format": "seqlab-checkpoint", "format_version": 1}).encode(), np.uint8))}
    p = tmp_path / "evil.npz"
    p.write_bytes(_zip(members))
    with pytest.raises(UserError, match="pickled objects"):
        load_model(p)


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        try:
            fn()
        except UserError:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_decompression_bombs_cost_no_memory(tmp_path):
    """Members claiming far more than the file holds are refused from the declared sizes, before reading."""
    # 1) a real deflate bomb: 64 MiB of zeros in a ~65 KB file
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(_zip({"w.npy": _npy(np.zeros(8 << 20)),
                           "__meta__.npy": _npy(np.zeros(2, np.uint8))}, zipfile.ZIP_DEFLATED))
    assert bomb.stat().st_size < 1 << 20
    # 2) a stored member whose directory entry claims 4 GB
    liar = tmp_path / "liar.npz"
    blob = bytearray(_zip({"w.npy": _npy(np.zeros(4))}))
    cd = blob.rindex(b"PK\x01\x02")
    blob[cd + 24:cd + 28] = struct.pack("<I", 0xFFFFFFF0)   # uncompressed size in the central directory
    liar.write_bytes(bytes(blob))
    # 3) an .npy header claiming a (10^12,) array over 32 bytes of data
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10 ** 12,)})
    huge = tmp_path / "huge.npz"
    huge.write_bytes(_zip({"w.npy": header.getvalue() + bytes(32),
                           "__meta__.npy": _npy(np.zeros(2, np.uint8))}))
    for p, words in ((bomb, "claim"), (liar, "claim"), (huge, "declares")):
        with pytest.raises(UserError, match=words):
            load_checkpoint(p)
        assert _peak_bytes(lambda: load_model(p)) < 4 << 20, p


def _resave(src, tmp_path, change_arrays=None, change_meta=None):
    """A checkpoint with a valid checksum but edited contents (what a buggy or hostile writer produces)."""
    arrays, meta = load_checkpoint(src)
    if change_arrays:
        change_arrays(arrays)
    if change_meta:
        change_meta(meta)
    p = tmp_path / "edited.npz"
    save_checkpoint(p, arrays, meta)
    return p


_TRANSFORMS = {
    "int32": lambda a: a.astype(np.int32),
    "complex": lambda a: a.astype(np.complex64),
    "bool": lambda a: a > 0,
    "transposed": lambda a: a.T if a.ndim == 2 else a[None],
    "one more row": lambda a: np.concatenate([a, a[:1]]),
    "scalar": lambda a: np.float32(1.0),
    "empty": lambda a: a[:0],
}


@FUZZ
@given(name=st.sampled_from(sorted(_tiny_model().model.arrays())), how=st.sampled_from(sorted(_TRANSFORMS)))
def test_wrong_dtype_or_shape(good, tmp_path, name, how):
    def edit(arrays):
        arrays[f"model.{name}"] = np.asarray(_TRANSFORMS[how](arrays[f"model.{name}"]))

    p = _resave(good, tmp_path, edit)
    with pytest.raises(UserError, match="inconsistent text model"):
        load_model(p)


_KEYS = [("config", "hidden"), ("config", "vocab_size"), ("config", "layers"), ("config", "embed"),
         ("config", "cell"), ("config", "dropout"), ("config", "dtype"), ("config",), ("vocab",),
         ("vocab", "chars"), ("mode",), ("normalize",), ("normalize", "lower"), ("kind",)]
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([10 ** 6, 10 ** 12, 2 ** 63]),
                    st.floats(allow_nan=True), st.text(max_size=5), st.lists(st.integers(0, 3), max_size=3),
                    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@FUZZ
@given(key=st.sampled_from(_KEYS), value=_VALUES)
def test_metadata_of_the_wrong_type(good, tmp_path, key, value):
    """Any value in any metadata field: a UserError or (the value happens to be right) the same model, and
    never an allocation of what a claimed size (hidden = 10^12) asks for."""
    def edit(meta):
        node = meta
        for k in key[:-1]:
            node = node[k]
        node[key[-1]] = value

    p = _resave(good, tmp_path, change_meta=edit)
    assert _peak_bytes(lambda: _loads_same_or_refuses(p, _tiny_model().model.arrays())) < 4 << 20


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_parameters_are_refused_by_every_command(good, tmp_path, capsys, bad):
    def poison(arrays):
        arrays["model.rnn.0.W_h"][1, 2] = bad

    p = _resave(good, tmp_path, poison)
    corpus = tmp_path / "t.txt"
    corpus.write_text("abc\n")
    for argv in (["sample", str(p)], ["eval", str(p), str(corpus)], ["names", "--model", str(p)],
                 ["poem", "ab", "--model", str(p)]):
        capsys.readouterr()
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "non-finite parameter (rnn.0.W_h" in err, err
        assert "lower --lr" in err


# ----------------------------------------------------------------------------------- text corpora
@FUZZ
@given(blob=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda s: s.encode("utf-8")),
                      st.text(max_size=200).map(lambda s: s.encode("utf-16"))),
       mode=st.sampled_from(["lines", "stream"]))
def test_corpora(tmp_path, blob, mode):
    """Any bytes as a corpus: prepared for training or refused with a UserError, in both modes."""

    p = tmp_path / "corpus.txt"
    p.write_bytes(blob)
    try:
        d = prepare_data(p, TrainConfig(mode=mode))
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    assert d.vocab.size >= 3


@FUZZ
@given(text=st.text(max_size=100))
def test_scoring_any_text(good, tmp_path, text):
    p = tmp_path / "score.txt"
    p.write_bytes(text.encode("utf-8", "surrogatepass"))
    lm = load_model(good)
    try:
        r = evaluate_file(lm, p)
    except UserError:
        return
    assert np.isfinite(r["nats_per_char"]) and r["chars"] > 0


def test_special_and_oversized_corpora(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="not a regular file"):
        corpus.read_text("/dev/zero")   # would never end
    big = tmp_path / "big.txt"
    big.write_bytes(b"ab\n" * 100)
    monkeypatch.setattr(corpus, "MAX_BYTES", 64)
    with pytest.raises(UserError, match="300 bytes; expected a text file of at most 64"):
        corpus.read_text(big)


# ----------------------------------------------------------------------------------- MIDI
@pytest.fixture(scope="module")
def song_bytes():
    return _smf(_track(CHORDS, 0, "Keys"), _track(MELODY, 1, "Lead"))


@SLOW_FUZZ
@given(edits=st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert"]), st.floats(0, 0.9999),
                                st.binary(min_size=1, max_size=6)), min_size=1, max_size=3))
def test_damaged_midi(song_bytes, tmp_path, edits):
    b = bytearray(song_bytes)
    for op, where, payload in edits:
        if len(b) <= 14:   # cut back to the header: nothing past it left to damage
            break
        k = 14 + int(where * (len(b) - 14))   # keep the MThd header: past it is where parsers get hurt
        if op == "flip":
            b[k] ^= payload[0] or 1
        elif op == "cut":
            del b[k:]
        else:
            b[k:k] = payload
    p = tmp_path / "damaged.mid"
    p.write_bytes(bytes(b))
    try:
        section = load_section(p)
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    assert len(section) >= 1


def test_midi_claiming_a_very_long_piece(song_bytes, tmp_path):
    """One huge delta time makes a track years long: refused at once from the raw events."""
    p = tmp_path / "long.mid"
    p.write_bytes(_smf(_track(CHORDS, 0), _track(MELODY + [(500_000, 1, 60)], 1)))
    with pytest.raises(UserError, match="runs to offset 500,001 quarter notes; expected at most 4,096"):
        load_section(p)


@SLOW_FUZZ
@given(blob=st.binary(max_size=400).map(lambda b: b"MThd\x00\x00\x00\x06" + b))
def test_random_midi_bodies(tmp_path, blob):
    p = tmp_path / "noise.mid"
    p.write_bytes(blob)
    with pytest.raises(UserError):
        load_section(p)


def test_jazz_model_files(tmp_path):
    """Hostile jazz models: claimed sizes without the arrays, wrong types, NaN; each a UserError."""

    if not default_path().exists():
        pytest.skip("the bundled jazz model is not built")
    for edit, words in [
        (lambda a, m: m.update(n_a=10 ** 9), "lstm.W_x should be"),
        (lambda a, m: m.update(n_values="90"), "expected integers"),
        (lambda a, m: m.update(progression=[[1, 2]]), "usable jazz model"),
        (lambda a, m: m.update(training="x"), "usable jazz model"),
        (lambda a, m: a["dense.b"].__setitem__(0, np.nan), "non-finite parameter \\(dense.b"),
    ]:
        arrays, meta = load_checkpoint(default_path())
        arrays = {k: v.copy() for k, v in arrays.items()}
        edit(arrays, meta)
        p = tmp_path / "jazz.npz"
        save_checkpoint(p, arrays, meta)
        assert _peak_bytes(lambda: load_bundle(p)) < 4 << 20
        with pytest.raises(UserError, match=words):
            load_bundle(p)


# ----------------------------------------------------------------------------------- dataset import
@FUZZ
@given(blob=st.binary(max_size=500), name=st.sampled_from(["dinos.txt", "original_metheny.mid", "x.bin"]))
def test_import_of_wrong_files_changes_nothing(tmp_path, monkeypatch, blob, name):
    home = tmp_path / "home"
    monkeypatch.setenv("SEQLAB_HOME", str(home))
    p = tmp_path / name
    p.write_bytes(blob)
    with pytest.raises(UserError, match="is not the expected|matches no known dataset"):
        data.import_files([p])
    assert not home.exists() or list(home.iterdir()) == []


def test_import_failing_write_leaves_no_half_file(tmp_path, monkeypatch):
    """The disk fills up while a dataset is copied in: one UserError, no partial file in the cache."""

    payload = b"abc\n" * 1000
    toy = data.Dataset("toy", "toy.txt", len(payload), hashlib.sha256(payload).hexdigest(), (), "toy")
    monkeypatch.setitem(data.DATASETS, "toy", toy)
    home = tmp_path / "home"
    monkeypatch.setenv("SEQLAB_HOME", str(home))
    src = tmp_path / "toy.txt"
    src.write_bytes(payload)
    real_fsync = os.fsync

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(UserError, match="cannot write .*toy.txt: No space left on device .nothing was written"):
        data.import_files([src])
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert list(home.iterdir()) == []


# ----------------------------------------------------------------------------------- the real command
def test_cli_gives_one_line_and_status_2_for_hostile_files(tmp_path, song_bytes):
    """As a user sees it, in a real process: one line on stderr, exit 2, no traceback, no output file."""
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(_zip({"w.npy": _npy(np.zeros(1 << 20))}, zipfile.ZIP_DEFLATED))
    noise = tmp_path / "noise.mid"
    noise.write_bytes(b"MThd\x00\x00\x00\x06" + bytes(range(256)) * 3)
    script = ("import sys; from seqlab.cli import main\n"
              "for argv in sys.argv[1:]:\n"
              "    import shlex; print(main(shlex.split(argv)), file=sys.stderr, flush=True)\n")
    solo = tmp_path / "solo.mid"
    runs = [f"sample {bomb}", f"eval {bomb} {noise}", f"jazz --train {noise} -o {solo}",
            f"data import {noise}"]
    r = subprocess.run([sys.executable, "-c", script, *runs], capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "SEQLAB_HOME": str(tmp_path / "home")})
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 2 * len(runs), r.stderr
    for k, argv in enumerate(runs):
        message, status = lines[2 * k], lines[2 * k + 1]
        command = " ".join(argv.split()[:2 if argv.startswith("data") else 1])
        assert status == "2" and message.startswith(f"seqlab {command}: error: "), r.stderr
    assert "Traceback" not in r.stderr and not solo.exists()


# ----------------------------------------------------------------------------------- chord changes
_SYMBOL = st.builds(lambda root, acc, quality, bass: root + acc + quality + bass,
                    st.sampled_from("ABCDEFGH"), st.sampled_from(["", "b", "#", "bb", "♭", "♯"]),
                    st.sampled_from(["", "m", "7", "m7", "maj7", "-7", "ø", "o7", "Δ", "6/9", "7#9", "m7b5",
                                     "13", "sus4", "7b", "12", "(", "x", "mmm", "maj7maj7"]),
                    st.sampled_from(["", "/E", "/Bb", "/", "/H"]))
_CHANGES = st.one_of(
    st.text(alphabet="ABCDEFGabm#♭7913+-ø°Δ/()|% \n", max_size=40),
    st.lists(st.lists(st.one_of(_SYMBOL, st.just("%")), max_size=3), max_size=5).map(
        lambda bars: " | ".join(" ".join(b) for b in bars)))


@FUZZ
@given(text=_CHANGES)
def test_chord_changes(text):
    """Any notation: measures of chords with real voicings, or one UserError line."""

    try:
        measures = parse_changes(text, "--chords")
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    for bar in to_chords(measures):
        assert bar and all(len(c.pitches) >= 2 for c in bar)


@SLOW_FUZZ
@given(blob=st.binary(max_size=200))
def test_chord_changes_files(tmp_path, blob):
    p = tmp_path / "changes.txt"
    p.write_bytes(blob)
    try:
        assert read_changes(p)
    except UserError as exc:
        assert "\n" not in str(exc)


def test_chord_changes_special_files():
    with pytest.raises(UserError, match="not a regular file"):
        read_changes("/dev/zero")
