"""The rough edges a newcomer met in the commands (issue 35, items 9-19): each as it was seen, now answered."""

from __future__ import annotations

import shutil

import pytest

from seqlab.cli import main
from seqlab.text.model import BUNDLED_DIR, load_model
from seqlab.text.sampling import generate, novelty


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 3-step model of a few names: it samples gibberish, unlike the bundled dinos."""
    d = tmp_path_factory.mktemp("tiny")
    corpus = d / "names.txt"
    corpus.write_text("\n".join(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"] * 4) + "\n", encoding="utf-8")
    assert main(["train", str(corpus), "-o", str(d / "tiny.npz"), "--hidden", "8", "--steps", "3", "--quiet"]) == 0
    return d / "tiny.npz"


# --- 9: a file in the current folder named like a bundled model -------------------------------------------
def test_names_takes_the_bundled_model_even_beside_a_file_of_that_name(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["names", "-n", "4", "--seed", "1"]) == 0
    bundled = capsys.readouterr().out
    shutil.copy(tiny, tmp_path / "dinos")           # `cp my.npz dinos`
    assert main(["names", "-n", "4", "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    assert out == bundled and "loaded" not in err   # `seqlab names` is the bundled model, as --help says


def test_a_local_file_that_shadows_a_bundled_name_is_said_on_stderr(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(tiny, tmp_path / "dinos")
    mine = load_model(tiny)
    for argv in (["names", "--model", "dinos", "-n", "3", "--seed", "2"],
                 ["sample", "dinos", "-n", "3", "--seed", "2", "--no-stream"]):
        assert main(argv) == 0
        out, err = capsys.readouterr()
        assert f"dinos: loaded the file {tmp_path / 'dinos'}, not the bundled model" in err, err
        expected = generate(mine, 3, max_len=40 if argv[0] == "names" else 100, seed=2)
        assert [s.lower() for s in out.split()] == expected
    assert main(["explore", "sampling", "dinos", "--json", "--length", "5"]) == 0
    out, err = capsys.readouterr()
    assert "dinos: loaded the file" in err and '"temperatures"' in out
    assert main(["sample", str(tiny), "-n", "1", "--seed", "2"]) == 0    # a path: nothing shadowed, nothing said
    assert "loaded" not in capsys.readouterr().err
    assert (BUNDLED_DIR / "dinos.npz").is_file()


def test_export_says_so_too_when_a_local_file_shadows_a_bundled_name(tiny, tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    shutil.copy(tiny, tmp_path / "dinos")
    assert main(["export", "dinos", "--torch", "mine.pt"]) == 0
    out, err = capsys.readouterr()
    assert f"dinos: loaded the file {tmp_path / 'dinos'}, not the bundled model" in err, err
    assert f"wrote mine.pt: {load_model(tiny).model.num_params:,} parameters" in out, out


# --- 11: `seqlab jazz -o foo.wav` wrote MIDI into foo.wav ----------------------------------------------------
@pytest.mark.parametrize("name", ["foo.wav", "foo.png", "foo"])
def test_jazz_refuses_an_output_that_is_not_a_midi_name(tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["jazz", "-o", str(out), "--measures", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".mid or .midi" in err and "--wav" in err, err
    assert not out.exists()


def test_jazz_takes_a_midi_suffix_in_any_case(tmp_path, capsys):
    out = tmp_path / "Take.MIDI"
    assert main(["jazz", "-o", str(out), "--measures", "2"]) == 0
    assert out.read_bytes()[:4] == b"MThd"


# --- 12: keys in music21's spelling ("B- major") ---------------------------------------------------------------
def test_the_key_is_spelled_with_a_flat_sign(tmp_path, capsys):
    assert main(["jazz", "--changes", "blues", "-o", str(tmp_path / "b.mid")]) == 0
    out = capsys.readouterr().out
    assert "key B♭ major" in out and "B-" not in out, out


def test_spell_writes_flats_and_sharps_as_signs():
    from seqlab.music.quality import spell

    assert [spell(n) for n in ("B-", "E--", "F#", "C", "A-")] == ["B♭", "E♭♭", "F♯", "C", "A♭"]


# --- 13: a name drawn twice counted twice as new --------------------------------------------------------------
def test_names_count_distinct_names_as_new(capsys):
    assert main(["names", "--prefix", "Tyr", "-n", "5", "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    names = out.split()
    distinct = len(set(names))
    assert distinct < len(names)                        # the seed that drew Tyranosaurus and Tyrtosaurus twice
    lm = load_model("dinos")
    new = len({s.lower() for s in names} - lm.training_lines)
    which = f"all {new}" if new == distinct else f"{new} of them"
    assert err == f"{distinct} distinct of 5, {which} not in the training data\n"


def test_novelty_counts_each_new_line_once():
    assert novelty(["abc", "abc", "xyz", "de", "de"], {"abc"}) == 2


# --- 17: `seqlab train my.txt -o model --steps 10` said only "wrote model at step 10" ---------------------------
@pytest.fixture
def names_txt(tmp_path):
    corpus = tmp_path / "my.txt"
    corpus.write_text("\n".join(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"] * 6) + "\n",
                      encoding="utf-8")
    return corpus


def test_a_run_shorter_than_eval_every_says_what_it_did_not_write_and_why(names_txt, tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["train", str(names_txt), "-o", str(out), "--steps", "10", "--hidden", "8", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == (f"wrote {out} at step 10 (a seqlab checkpoint; its name needs no .npz, seqlab reads it "
                         f"as named)")
    assert lines[-2] == ("no held-out score and no loss plot: the run evaluates every --eval-every 100 steps and "
                         "ended at step 10, before the first evaluation (give --eval-every 10 or less for them)")
    assert out.is_file() and not (tmp_path / "model.loss.png").exists()


def test_a_run_that_evaluates_names_its_loss_plot(names_txt, tmp_path, capsys):
    out = tmp_path / "m.npz"
    argv = ["train", str(names_txt), "-o", str(out), "--steps", "4", "--eval-every", "2", "--hidden", "8", "--quiet"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith(f"wrote {out} at step 4, ") and "held-out" in lines[-1]
    assert "seqlab checkpoint" not in lines[-1]            # an .npz name needs no word
    assert lines[-2] == f"wrote {tmp_path / 'm.loss.png'} (the loss curve)"
    assert (tmp_path / "m.loss.png").read_bytes()[:4] == b"\x89PNG"
    assert main([*argv[:3], str(tmp_path / "h.npz"), *argv[4:], "--holdout", "0"]) == 0
    assert capsys.readouterr().out.splitlines()[-2] == "no held-out score: --holdout 0 holds nothing out"


# --- 18: help gaps ------------------------------------------------------------------------------------------------
def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())     # argparse's wrapping undone


def test_help_texts_hold_no_empty_default_and_name_the_datasets(capsys):
    from seqlab.data import DATASETS

    train = _help(capsys, "train")
    assert "()" not in train and "the corpus must use only its characters --steps" in train
    for action in ("fetch", "import"):
        text = _help(capsys, "data", action)
        assert all(f"{ds.name} {ds.filename}" in text for ds in DATASETS.values()), text
    names = _help(capsys, "names")
    assert "most characters generated per sample (40)" in names and "stream" not in names
    assert "(a lines model: 100, a stream model: 400)" in _help(capsys, "sample")


# --- 19: `seqlab data list` -------------------------------------------------------------------------------------------
def test_data_list_rows_keep_their_columns_within_80_characters(capsys, tmp_path, monkeypatch):
    from seqlab.data import DATASETS

    monkeypatch.setenv("SEQLAB_HOME", str(tmp_path))
    assert main(["data", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"datasets in {tmp_path}:" and lines[1].split() == ["name", "present", "bytes", "file"]
    rows = lines[2:]
    assert [r.split()[0] for r in rows] == list(DATASETS)
    assert all(len(r) <= 80 for r in rows), rows
    file_at = lines[1].index("file")
    assert all(r[file_at:] == ds.filename for r, ds in zip(rows, DATASETS.values()))
    bytes_end = lines[1].index("bytes") + len("bytes")
    assert all(r[:bytes_end].endswith(f"{ds.size:,}") for r, ds in zip(rows, DATASETS.values()))


# --- 16: the sampling figure: a legend entry for a line above the axis, an empty band between the rows ----------
@pytest.mark.parametrize("model,prefix", [("shakespeare", "shall i"), ("dinos", "")])
def test_the_sampling_figure_shows_its_uniform_line_and_keeps_its_rows_close(model, prefix):
    from seqlab.explore.sampling import draw_sampling, temperature_report

    result = temperature_report(load_model(model), prefix, seed=0)
    fig = draw_sampling(result)
    bars, entropy = fig.axes[:3], fig.axes[3]
    lo, hi = entropy.get_ylim()
    assert lo <= result["max_entropy"] < hi                      # the line the legend names is on the plot
    renderer = fig.canvas.get_renderer()
    to_fig = fig.transFigure.inverted()
    lowest_text = min(a.get_tightbbox(renderer).transformed(to_fig).y0 for a in bars)
    top_of_curve = entropy.get_position().y1
    assert 0 < lowest_text - top_of_curve <= 0.05                # no overlap, and no empty band (it was ~0.2)
