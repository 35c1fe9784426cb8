"""The dataset registry and cache: checksum-verified import and fetch, and `seqlab data`."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request

import pytest

from conftest import dataset_path
from seqlab import data
from seqlab.cli import main
from seqlab.errors import UserError

TOY_BYTES = b"abc\ndef\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty seqlab cache, plus a small registered dataset `toy` whose source file is in tmp_path/src."""
    monkeypatch.setenv("SEQLAB_HOME", str(tmp_path / "home"))
    src = tmp_path / "src"
    src.mkdir()
    (src / "toy.txt").write_bytes(TOY_BYTES)
    toy = data.Dataset("toy", "toy.txt", len(TOY_BYTES), hashlib.sha256(TOY_BYTES).hexdigest(),
                       ((src / "toy.txt").as_uri(),), "a toy corpus")
    monkeypatch.setitem(data.DATASETS, "toy", toy)
    return tmp_path / "home"


def test_registry_names_course_files():
    assert {"dinos", "shakespeare", "metheny", "shakespeare-keras"} <= set(data.DATASETS)
    assert data.DATASETS["dinos"].sha256.startswith("ad6465621cf5")
    assert data.DATASETS["dinos"].size == 19_909
    for ds in data.DATASETS.values():
        assert len(ds.sha256) == 64 and all(u.startswith("https://") for u in ds.urls)


def test_cache_dir_follows_seqlab_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_HOME", str(tmp_path))
    assert data.cache_dir() == tmp_path
    monkeypatch.delenv("SEQLAB_HOME")
    assert data.cache_dir().parts[-2:] == (".cache", "seqlab")


def test_missing_dataset_says_how_to_get_it(home):
    assert not data.is_present("toy")
    with pytest.raises(UserError, match="seqlab data fetch toy.*seqlab data import"):
        data.path("toy")
    with pytest.raises(UserError, match="unknown dataset 'nope'.*dinos"):
        data.path("nope")


def test_import_round_trip(home, tmp_path):
    [cached] = data.import_files([tmp_path / "src" / "toy.txt"])
    assert cached == home / "toy.txt" and cached.read_bytes() == TOY_BYTES
    assert data.is_present("toy") and data.path("toy") == cached
    assert data.resolve_corpus("toy") == cached
    assert sorted(p.name for p in home.iterdir()) == ["toy.txt"]  # no temporary left behind


def test_import_identifies_a_renamed_file_by_checksum(home, tmp_path):
    other = tmp_path / "names-copy.txt"
    other.write_bytes(TOY_BYTES)
    assert data.import_files([other]) == [home / "toy.txt"]


def test_import_refuses_wrong_bytes_naming_both_checksums(home, tmp_path):
    bad = tmp_path / "toy.txt"
    bad.write_bytes(b"not the toy\n")
    with pytest.raises(UserError) as exc:
        data.import_files([bad])
    message = str(exc.value)
    assert hashlib.sha256(b"not the toy\n").hexdigest() in message
    assert data.DATASETS["toy"].sha256 in message
    assert not (home / "toy.txt").exists()


def test_import_refuses_unknown_file_naming_known_files(home, tmp_path):
    stray = tmp_path / "stray.bin"
    stray.write_bytes(b"\x00\x01")
    with pytest.raises(UserError, match="matches no known dataset.*dinos.txt.*toy.txt"):
        data.import_files([stray])


def test_one_bad_file_imports_nothing(home, tmp_path):
    stray = tmp_path / "stray.bin"
    stray.write_bytes(b"?")
    with pytest.raises(UserError):
        data.import_files([tmp_path / "src" / "toy.txt", stray])
    assert not data.is_present("toy")


def test_fetch_downloads_and_verifies(home):
    assert data.fetch("toy").read_bytes() == TOY_BYTES  # the toy's URL is a file:// URL


def test_fetch_refuses_wrong_download(home, tmp_path):
    (tmp_path / "src" / "toy.txt").write_bytes(b"changed upstream\n")
    with pytest.raises(UserError, match="expected " + data.DATASETS["toy"].sha256):
        data.fetch("toy")
    assert not home.exists() or list(home.iterdir()) == []


def test_fetch_offline_says_how_to_import(home, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(UserError, match="name resolution.*seqlab data import PATH/toy.txt") as exc:
        data.fetch("toy")
    assert "\n" not in str(exc.value)


def test_resolve_corpus_accepts_paths_and_refuses_missing(tmp_path):
    f = tmp_path / "my.txt"
    f.write_text("hello")
    assert data.resolve_corpus(str(f)) == f
    with pytest.raises(UserError, match="does not exist"):
        data.resolve_corpus(str(tmp_path / "nope.txt"))


def test_cli_list_and_import(home, tmp_path, capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "dinos.txt" in out and "19,909" in out and f"datasets in {data.cache_dir()}:" in out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("toy ")] == ["no"]

    assert main(["data", "import", str(tmp_path / "src" / "toy.txt")]) == 0
    capsys.readouterr()
    main(["data", "list"])
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("toy ")] == ["yes"]
    cached = data.cache_dir() / "toy.txt"
    cached.write_bytes(cached.read_bytes()[::-1])          # there, but not the dataset's bytes: not just "no"
    main(["data", "list"])
    out = capsys.readouterr().out
    assert [line.split()[1:3] for line in out.splitlines() if line.startswith("toy ")] == [["wrong", "sha256"]]


@pytest.mark.parametrize("argv", [["data", "import", "{tmp}/missing.txt"], ["data", "fetch", "nope"],
                                  ["data", "import", "{tmp}/src"]])
def test_cli_errors_are_one_line_and_status_2(home, tmp_path, capsys, argv):
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"seqlab data {argv[1]}: error: ") and err.count("\n") == 1


@pytest.mark.data
def test_real_dinos_when_present():
    p = dataset_path("dinos")
    assert p.stat().st_size == 19_909 and data.is_present("dinos")
