"""The text commands: train, sample, eval, names; every bad input is one stderr line and exit status 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqlab.cli import main
from seqlab.pretrained.build import dinos_split


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    corpus = d / "names.txt"
    corpus.write_text("\n".join(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"] * 3) + "\n",
                      encoding="utf-8")
    model = d / "good.npz"
    assert main(["train", str(corpus), "-o", str(model), "--hidden", "8", "--steps", "6", "--eval-every", "3",
                 "--quiet"]) == 0
    return d, corpus, model


def _fails(capsys, argv, *words):
    capsys.readouterr()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"seqlab {argv[0]}: error: "), err
    for w in words:
        assert w in err, err
    return err


def test_sample_and_eval_json(trained, capsys):
    d, corpus, model = trained
    capsys.readouterr()
    assert main(["sample", str(model), "-n", "3", "--seed", "1", "--prefix", "Al"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3 and all(s.startswith("al") for s in lines) and "not in the training data" in err
    assert main(["eval", str(model), str(corpus), "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out)
    assert set(result) == {"nats_per_char", "chars"} and result["chars"] == sum(len(w) + 1 for w in
        ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"] * 3)


@pytest.mark.parametrize("content,words", [
    (None, ["does not exist"]),
    (b"", ["is empty"]),
    (b"\x00\x01binary\x00", ["binary"]),
    (b"caf\xe9\n", ["not UTF-8"]),
    (b"aaaa\naa\naaa\n", ["distinct character"]),
])
def test_train_bad_corpus_leaves_the_old_model_untouched(trained, tmp_path, capsys, content, words):
    _, _, model = trained
    before = model.read_bytes()
    corpus = tmp_path / "bad.txt"
    if content is not None:
        corpus.write_bytes(content)
    _fails(capsys, ["train", str(corpus), "-o", str(model), "--steps", "2", "--quiet"], *words)
    assert model.read_bytes() == before


def test_train_bad_options_and_bad_resume(trained, tmp_path, capsys):
    d, corpus, model = trained
    before = model.read_bytes()
    _fails(capsys, ["train", str(corpus), "-o", str(model), "--hidden", "0"], "--hidden")
    _fails(capsys, ["train", str(corpus), "-o", str(tmp_path / "nodir" / "m.npz")], "does not exist")
    _fails(capsys, ["train", str(corpus), "-o", str(model), "--resume", str(model), "--steps", "3"],
           "already at step 6")
    resume = ["train", str(corpus), "-o", str(model), "--resume", str(model), "--steps", "9"]
    _fails(capsys, resume + ["--hidden", "16"], "--hidden 16 differs from 8, the setting", "leave --hidden out")
    _fails(capsys, resume + ["--keep-case"], "--keep-case was not given when")
    assert model.read_bytes() == before


@pytest.mark.parametrize("flags, words", [
    (["--cell", "gru", "--forget-bias", "0"], ("--forget-bias", "--cell gru has none")),
    (["--cell", "rnn", "--forget-bias", "2"], ("--cell rnn has none",)),
    (["--init", "GOOD", "--forget-bias", "0"], ("--init gives the run all of its weights",)),
    (["--seq-len", "50"], ("--seq-len", "lines mode trains on whole lines", "--mode stream")),
    (["--min-lr-ratio", "0.5"], ("--min-lr-ratio", "without --decay-steps")),
])
def test_a_setting_the_run_would_not_use_is_refused(trained, tmp_path, capsys, flags, words):
    # each of these used to train without a word, the setting doing nothing
    d, corpus, model = trained
    out = tmp_path / "m.npz"
    flags = [str(model) if f == "GOOD" else f for f in flags]
    _fails(capsys, ["train", str(corpus), "-o", str(out), "--hidden", "8", "--steps", "2", "--quiet", *flags],
           *words)
    assert list(tmp_path.iterdir()) == []
    # the same settings where they act are taken
    used = {"--cell": ["--cell", "lstm"], "--init": [], "--seq-len": ["--mode", "stream"],
            "--min-lr-ratio": ["--decay-steps", "2"]}[flags[0]]
    kept = [f for f in flags if f not in ("--init", str(model))] if flags[0] == "--init" else flags
    assert main(["train", str(corpus), "-o", str(out), "--hidden", "8", "--steps", "2", "--quiet",
                 *(kept if flags[0] != "--cell" else kept[2:]), *used]) == 0


@pytest.mark.parametrize("argv, words", [
    (["poem", "shall i", "--beam", "2", "--temperature", "0.5", "--seed", "3"], "--temperature and --seed do not"),
    (["poem", "shall i", "--beam", "2", "--top-p", "0.9"], "--top-p does not apply with --beam"),
    (["sample", "dinos", "--beam", "3", "--top-k", "3"], "--top-k does not apply with --beam"),
])
def test_a_beam_refuses_the_sampling_options_it_would_ignore(capsys, argv, words):
    _fails(capsys, argv, words, "leave out --beam to sample")


def test_the_jazz_model_given_to_a_text_command_points_to_seqlab_jazz(trained, capsys):
    d, corpus, model = trained
    for argv in (["sample", "jazz"], ["eval", "jazz", str(corpus)], ["names", "--model", "jazz"]):
        _fails(capsys, argv, "not a character-level text model; it is a jazz model: play it with `seqlab jazz --model`")


def test_a_file_named_like_a_bundled_model_shadows_it_only_if_it_is_a_checkpoint(trained, tmp_path, monkeypatch,
                                                                                   capsys):
    # a text file called dinos in the current folder made even `seqlab names` fail: "dinos is not a seqlab
    # checkpoint"
    from seqlab.music.bundle import load_bundle
    from seqlab.text.model import BUNDLED_DIR, resolve_model

    d, corpus, model = trained
    assert main(["names", "-n", "3", "--seed", "0"]) == 0
    names = capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dinos").write_text("my own names\n", encoding="utf-8")
    (tmp_path / "shakespeare").mkdir()
    (tmp_path / "jazz").write_text("x", encoding="utf-8")
    assert resolve_model("dinos") == BUNDLED_DIR / "dinos.npz"
    assert resolve_model("shakespeare") == BUNDLED_DIR / "shakespeare.npz"
    assert main(["names", "-n", "3", "--seed", "0"]) == 0 and capsys.readouterr().out == names
    assert load_bundle("jazz").model.n_values == load_bundle().model.n_values
    (tmp_path / "dinos").write_bytes(model.read_bytes())       # a checkpoint of that name is the user's model
    assert resolve_model("dinos").resolve() == (tmp_path / "dinos").resolve()


def test_resuming_with_the_run_s_own_settings_spelt_out_is_allowed(trained, tmp_path, capsys):
    d, corpus, model = trained
    copy = tmp_path / "again.npz"
    copy.write_bytes(model.read_bytes())
    assert main(["train", str(corpus), "-o", str(copy), "--resume", str(copy), "--hidden", "8", "--eval-every",
                 "3", "--steps", "7", "--quiet"]) == 0
    assert "wrote " + str(copy) + " at step 7" in capsys.readouterr().out


def test_bad_models_and_bad_prefix(trained, tmp_path, capsys):
    d, corpus, model = trained
    (tmp_path / "text.npz").write_text("hello", encoding="utf-8")
    data = model.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    np.save(tmp_path / "plain.npy", np.zeros(3))
    _fails(capsys, ["sample", str(tmp_path / "missing.npz")], "no such model file")
    _fails(capsys, ["sample", str(tmp_path / "text.npz")], "not a seqlab checkpoint")
    _fails(capsys, ["eval", str(tmp_path / "cut.npz"), str(corpus)], "truncated")
    _fails(capsys, ["eval", str(tmp_path / "plain.npy"), str(corpus)], "not")
    _fails(capsys, ["sample", str(model), "--prefix", "al#"], "'#'")
    _fails(capsys, ["eval", str(model), str(tmp_path / "nothing.txt")], "no such file")
    _fails(capsys, ["sample", str(model), "--temperature", "-1"], "temperature")
    _fails(capsys, ["sample", str(model), "--max-len", "-3"], "--max-len must be between 1 and 1,000,000, got -3")


@pytest.mark.parametrize("flag, value, limit", [
    ("-n", "0", "100,000"), ("-n", "-1", "100,000"), ("--max-len", "0", "1,000,000"), ("--max-len", "-1", "1,000,000"),
    ("-n", "1000000000", "100,000"),           # used to try to allocate 201 GiB, a traceback
    ("--max-len", "1000000000", "1,000,000"),  # with -n 2: killed for memory
])
def test_names_refuses_counts_out_of_range(capsys, flag, value, limit):
    _fails(capsys, ["names", flag, value], f"{flag} must be between 1 and {limit}, got {value}")


@pytest.mark.parametrize("argv, message", [
    (["names", "-n", "100000", "--max-len", "101"], "-n 100,000 times --max-len 101 is 10,100,000 characters; "
                                                    "expected at most 10,000,000"),
    (["sample", "dinos", "--beam", "1001"], "--beam must be between 1 and 1,000, got 1001"),
    (["poem", "x", "--length", "1000000000"], "--length must be between 1 and 100,000, got 1000000000"),
    (["poem", "x", "--beam", "100000"], "--beam must be between 1 and 1,000, got 100000"),
])
def test_sampling_sizes_beyond_any_use_are_refused(capsys, argv, message):
    _fails(capsys, argv, message)


def test_a_beam_that_finishes_fewer_than_asked_says_so(capsys):
    from seqlab.text.model import load_model
    from seqlab.text.sampling import beam_search

    found = beam_search(load_model("dinos"), "", 100, 3)
    assert main(["sample", "dinos", "--beam", "3", "-n", "3"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [t.rstrip("\n") for t, _ in found] and len(found) < 3
    assert f"the beam found {len(found)} of the -n 3 asked for" in err


def test_names_works_offline_from_the_bundled_model(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLAB_HOME", str(tmp_path / "empty-cache"))   # no datasets needed
    assert main(["names", "-n", "6", "--seed", "0"]) == 0
    out, err = capsys.readouterr()
    names = out.splitlines()
    assert len(names) == 6 and all(n[:1].isupper() and n[1:].isalpha() and n[1:].islower() for n in names)
    assert "of 6 not in the training data" in err
    assert main(["names", "-n", "6", "--seed", "0"]) == 0
    assert capsys.readouterr().out == out
    assert main(["names", "-n", "2", "--prefix", "Tyr", "--seed", "1"]) == 0
    assert all(n.startswith("Tyr") for n in capsys.readouterr().out.splitlines())


@pytest.mark.data
def test_bundled_dinos_model_scores_the_held_out_names(dinos_path, tmp_path, capsys):
    _, held = dinos_split(dinos_path.read_text(encoding="utf-8"))
    assert len(held) == 153
    f = tmp_path / "heldout.txt"
    f.write_text("\n".join(held) + "\n", encoding="utf-8")
    assert main(["eval", "dinos", str(f), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["chars"] == sum(len(s.strip()) + 1 for s in held)
    assert result["nats_per_char"] <= 1.65


def test_the_last_line_names_the_parameters_the_file_holds(tmp_path, capsys):
    # a run ending between evaluations may keep its last parameters; the line used to name the best evaluation
    from conftest import dataset_path
    from seqlab.checkpoint import load_checkpoint

    corpus = tmp_path / "d100.txt"
    corpus.write_text("".join(dataset_path("dinos").read_text().splitlines(keepends=True)[:100]))
    common = ["--hidden", "16", "--eval-every", "50", "--checkpoint-every", "0", "--sample-every", "0", "--quiet"]
    assert main(["train", str(corpus), "-o", str(tmp_path / "a.npz"), "--steps", "120", *common]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    meta = load_checkpoint(tmp_path / "a.npz")[1]["train"]
    kept, best = meta["model"], meta["best"]
    assert kept["step"] == 120 and best["step"] == 100 and kept["nats_per_char"] < best["nats_per_char"]
    assert last == (f"wrote {tmp_path / 'a.npz'} at step 120, held-out {kept['nats_per_char']:.4f} nats/char with "
                    f"the parameters of step 120 (better than the best evaluation, {best['nats_per_char']:.4f} "
                    f"at step 100)")
    assert main(["train", str(corpus), "-o", str(tmp_path / "b.npz"), "--steps", "100", *common]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(f"best held-out {best['nats_per_char']:.4f} "
                                                             f"nats/char at step 100")
    assert load_checkpoint(tmp_path / "b.npz")[1]["train"]["model"] == best


def test_names_cut_off_at_max_len_are_said_to_be_cut(capsys):
    # an unfinished name counted as a new one: "Ler" of --max-len 3
    assert main(["names", "--max-len", "3", "-n", "5", "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    assert all(len(s) == 3 for s in out.split())
    assert err == "5 of 5 not in the training data (5 of them cut off at --max-len 3)\n"
    assert main(["names", "-n", "3", "--seed", "1"]) == 0
    assert capsys.readouterr().err == "3 of 3 not in the training data\n"
