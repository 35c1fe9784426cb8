"""The `seqlab` parser itself: a usage error is one line naming the sub-command it was given to, exit status 2."""

from __future__ import annotations

import pytest

from seqlab.cli import main


def one_line_error(capsys, argv) -> str:
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:   # argparse's own errors leave through _Parser.error
        status = exc.code
    assert status == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.mark.parametrize("argv, prog", [
    (["train", "x.txt", "-o", "m.npz", "--val-frac", "2"], "seqlab train"),
    (["explore", "gradients", "--foo"], "seqlab explore gradients"),
    (["data", "fetch", "dinos", "--bar"], "seqlab data fetch"),
    (["names", "extra"], "seqlab names"),
    (["--nope"], "seqlab"),
])
def test_an_unknown_argument_is_reported_by_its_command(capsys, argv, prog):
    unknown = " ".join(argv[-2:] if argv[-1] == "2" else argv[-1:])
    assert one_line_error(capsys, argv) == (f"{prog}: error: unrecognized arguments: {unknown} "
                                            f"(see `{prog} --help`)")


@pytest.mark.parametrize("argv", [
    ["names"], ["sample", "dinos"], ["poem", "shall I"], ["jazz"], ["explore", "gradients"],
])
@pytest.mark.parametrize("seed, says", [("-1", "must be at least 0, got -1"), ("x", "invalid seed value: 'x'")])
def test_every_seed_is_a_whole_number_at_least_0(capsys, argv, seed, says):
    err = one_line_error(capsys, [*argv, "--seed", seed])
    command = " ".join(argv[:2] if argv[0] == "explore" else argv[:1])
    assert err.startswith(f"seqlab {command}: error: argument --seed: {says}")


def test_train_refuses_a_negative_seed_and_writes_nothing(capsys, tmp_path):
    (tmp_path / "names.txt").write_text("ab\nba\n", encoding="utf-8")
    err = one_line_error(capsys, ["train", str(tmp_path / "names.txt"), "-o", str(tmp_path / "m.npz"),
                                  "--seed", "-1"])
    assert err == "seqlab train: error: --seed must be at least 0, got -1"
    assert [p.name for p in tmp_path.iterdir()] == ["names.txt"]


@pytest.mark.parametrize("argv", [["train", "metheny", "-o", "m.npz"], ["eval", "dinos", "metheny"]])
def test_the_text_commands_name_only_text_datasets(capsys, argv):
    err = one_line_error(capsys, argv)
    assert err.endswith("metheny: that dataset's file, original_metheny.mid, is not a .txt file; expected a "
                        "file or a dataset name (dinos, shakespeare, tinyshakespeare)")


def test_bench_refuses_threads_below_1(capsys):
    assert one_line_error(capsys, ["bench", "--threads", "0"]).endswith(
        "--threads must be a positive integer, got 0")


@pytest.mark.parametrize("make_argv, says", [
    (lambda d: ["train", str(d / "names.txt"), "-o", str(d / "notes.txt")], "is not a seqlab checkpoint"),
    (lambda d: ["train", str(d / "names.txt"), "-o", str(d / "names.txt")], "is also a file this command reads"),
    (lambda d: ["train", str(d / "names.txt"), "-o", str(d / "m.npz"), "--vocab-from", str(d / "m.npz")],
     "is also a file this command reads"),
    (lambda d: ["jazz", "-o", str(d / "notes.mid"), "--measures", "1"], "is not a MIDI file"),
    (lambda d: ["jazz", "-o", str(d / "notes.txt"), "--measures", "1"], "-o takes a .mid or .midi name"),
    (lambda d: ["jazz", "--train", str(d / "tune.mid"), "-o", str(d / "tune.mid")],
     "is also a file this command reads"),
    (lambda d: ["jazz", "--train", str(d / "tune.mid"), "--save-model", str(d / "notes.txt")],
     "notes.txt exists and is not a seqlab checkpoint"),
    # the figures, pages and sounds: explore's -o, and the files written beside an output
    (lambda d: ["explore", "sampling", "dinos", "-o", str(d / "notes.png")], "notes.png exists and is not a PNG image"),
    (lambda d: ["explore", "gradients", "-o", str(d / "notes.svg")], "notes.svg exists and is not an SVG image"),
    (lambda d: ["explore", "cells", "dinos", str(d / "page.html"), "-o", str(d / "page.html")],
     "page.html is also a file this command reads"),
    (lambda d: ["explore", "cells", "dinos", str(d / "names.txt"), "-o", str(d / "notes.html")],
     "notes.html exists and is not an HTML page"),
    (lambda d: ["explore", "cells", "dinos", str(d / "names.txt"), "-o", str(d / "c.html"), "--png"],
     "c.png exists and is not a PNG image"),
    (lambda d: ["train", str(d / "names.txt"), "-o", str(d / "notes.npz"), "--steps", "1"],
     "notes.loss.png, written beside -o"),
    (lambda d: ["jazz", "-o", str(d / "solo.mid"), "--measures", "1", "--wav"],
     "solo.wav, written beside -o"),
])
def test_no_command_writes_over_its_input_or_a_file_of_another_kind(capsys, tmp_path, make_argv, says):
    files = {"names.txt": b"ab\nba\n", "notes.txt": b"my notes\n", "tune.mid": b"MThd not really",
             "m.npz": b"PK not really", "notes.png": b"my notes\n", "notes.svg": b"<p>not svg</p>",
             "page.html": b"<!DOCTYPE html><p>ab\n", "notes.html": b"my notes\n", "c.png": b"my notes\n",
             "notes.loss.png": b"my notes\n", "solo.wav": b"my notes\n", "notes.mid": b"my notes\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    argv = make_argv(tmp_path)
    assert says in one_line_error(capsys, argv)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files   # nothing written, nothing changed
