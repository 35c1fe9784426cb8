"""Vocabularies and corpus reading: the course's id convention, round trips and every refusal."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from conftest import dataset_path
from seqlab.errors import UserError
from seqlab.text.corpus import check_distinct, lines_corpus, read_text, sha256_of
from seqlab.text.vocab import Vocabulary, normalize


def test_course_convention_newline_first_then_letters():
    v = Vocabulary.from_text(normalize("Aachenosaurus\nZuniceratops\nbbb"))
    assert v.ix_to_char[0] == "\n" and v.char_to_ix["a"] == 1
    assert "".join(v.chars) == "\nabcehinoprstuz" and v.size == len(v) == 15


def test_dinos_vocabulary_is_27_with_course_ids():
    text = normalize(read_text(dataset_path("dinos")))
    v = Vocabulary.from_text(text)
    assert v.size == 27
    assert v.char_to_ix == {"\n": 0, **{chr(ord("a") + i): i + 1 for i in range(26)}}
    assert len(lines_corpus(text)) == 1536


def test_encode_decode_round_trip():
    v = Vocabulary.from_text("hello world\n")
    ids = v.encode("low\nhell")
    assert ids.dtype == np.int64 and ids.shape == (8,)
    assert ids.tolist() == [v.char_to_ix[c] for c in "low\nhell"]
    assert v.decode(ids) == "low\nhell"
    assert v.encode("").shape == (0,) and v.decode([]) == ""


def test_unknown_characters_are_named():
    v = Vocabulary.from_text("abc\n")
    with pytest.raises(UserError) as exc:
        v.encode("abXcY!")
    message = str(exc.value)
    assert "'!' 'X' 'Y'" in message and "vocabulary of 4" in message and "\n" not in message


def test_decode_rejects_bad_ids():
    v = Vocabulary.from_text("ab")
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        v.decode([0, 2])
    with pytest.raises(TypeError):
        v.decode([[0]])


def test_decode_rows_is_decode_row_by_row():
    rng = np.random.default_rng(0)
    for chars in ("abc\n", "Zébra\n ,", "a\0b"):            # the last has a NUL, decoded row by row
        v = Vocabulary.from_text(chars)
        ids = rng.integers(0, v.size, (50, 12))
        lengths = rng.integers(0, 13, 50)
        ids[np.arange(12) >= lengths[:, None]] = 99         # past the length: ignored, not checked
        got = v.decode_rows(ids, lengths)
        assert got == [v.decode(row[:k]) for row, k in zip(ids, lengths)]
        assert [len(s) for s in got] == lengths.tolist()
    assert v.decode_rows(np.zeros((3, 0), np.int64), np.zeros(3, np.int64)) == ["", "", ""]
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        v.decode_rows(np.array([[0, 3]]), np.array([2]))
    with pytest.raises(ValueError, match="lengths"):
        v.decode_rows(np.array([[0, 1]]), np.array([3]))


def test_json_round_trip():
    v = Vocabulary.from_text("Zébra\n ,")
    blob = json.dumps(v.to_json())
    assert Vocabulary.from_json(json.loads(blob)) == v
    assert Vocabulary.from_json(blob) == v


def test_normalize():
    assert normalize("Ab\r\nCd\rE") == "ab\ncd\ne"
    assert normalize("Ab\r\n", lower=False) == "Ab\n"


def test_read_text_and_checksum(tmp_path):
    f = tmp_path / "c.txt"
    f.write_bytes("\ufeffhéllo\nworld".encode("utf-8"))
    assert read_text(f) == "héllo\nworld"  # byte-order mark dropped
    assert sha256_of(f) == hashlib.sha256(f.read_bytes()).hexdigest()


@pytest.mark.parametrize("content, expected", [
    (None, "no such file"),
    ("dir", "is a directory"),
    (b"", "is empty"),
    (b"ab\x00cd", "looks binary"),
    (b"caf\xe9 au lait", "not UTF-8 .*offset 3"),
    (b" \n\t\n", "only whitespace"),
])
def test_read_text_refuses_bad_files(tmp_path, content, expected):
    f = tmp_path / "corpus.txt"
    if content == "dir":
        f.mkdir()
    elif content is not None:
        f.write_bytes(content)
    with pytest.raises(UserError, match=expected) as exc:
        read_text(f)
    assert str(f) in str(exc.value) and "\n" not in str(exc.value)


def test_lines_corpus_strips_and_drops_blank_lines():
    assert lines_corpus("  Aa \n\n\tbb\r\nc\n") == ["Aa", "bb", "c"]


@pytest.mark.parametrize("text", ["aaaa\n", "a\n\na\n", "aaa\r\na"])
def test_one_distinct_character_is_refused(text):
    with pytest.raises(UserError, match="1 distinct character.*'a'"):
        lines_corpus(text)
    with pytest.raises(UserError, match="1 distinct character"):
        check_distinct(text)


def test_no_lines_is_refused_and_two_characters_pass():
    with pytest.raises(UserError, match="no non-empty lines"):
        lines_corpus("\n \n")
    assert lines_corpus("a\nb") == ["a", "b"]
    check_distinct("ab")
