"""seqlab.explore.cells and `seqlab explore cells`: features, activations from the engine's forward pass,
correlations computed independently, the self-contained page, failure paths."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from explore_cli import fails
from seqlab.cli import main
from seqlab.explore import cells as C
from seqlab.explore.cells_page import cells_html
from seqlab.text.model import CharModel, LanguageModel
from seqlab.text.vocab import Vocabulary

TEXT = 'ab (cd) "e f"\nghi [j]\n'


def _tiny(cell="lstm", mode="stream", layers=2, embed=3):
    vocab = Vocabulary(TEXT + "klmnopqrstuvwxyz.,")
    model = CharModel(vocab.size, cell, hidden=6, layers=layers, embed=embed, rng=np.random.default_rng(0))
    return LanguageModel(model, vocab, lower=True, mode=mode)


def test_features_by_hand():
    f = C.text_features(TEXT)
    as_str = {k: "".join(str(int(v)) if v < 10 else "+" for v in f[k]) for k in f}
    #                           'ab (cd) "e f"\nghi [j]\n'
    assert as_str["paren"] == "0001111000000000001110"
    assert as_str["quote"] == "0000000011111000000000"
    assert as_str["word_start"] == "1000100001010010000100"
    assert as_str["vowel"] == "1000000001000000100000"
    assert list(f["line_position"][:3]) == [1, 2, 3] and f["line_position"][13] == 0 and f["line_position"][14] == 1


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stream_activations_give_the_models_predictions(cell):
    """The top layer's recorded a⟨t⟩ through the model's Dense layer gives the model's own log-probabilities;
    for an LSTM a = o ∗ tanh(c) holds between the recorded signals; gates lie in [0, 1]."""
    lm = _tiny(cell)
    acts = C.activations(lm, TEXT)
    top = acts["layers"][-1]
    logits = lm.model.dense.forward(top["a"].astype(np.float32), cache=False)
    lp, _ = lm.model.log_probs(lm.encode(TEXT)[:, None])
    np.testing.assert_allclose(logits - logits.max(1, keepdims=True), lp[:, 0] - lp[:, 0].max(1, keepdims=True),
                               rtol=1e-5, atol=1e-5)
    if cell == "lstm":
        np.testing.assert_allclose(top["a"], top["gates"]["output"] * top["tanh_c"], rtol=1e-5, atol=1e-6)
        assert set(top["gates"]) == {"input", "forget", "output"}
    else:
        assert top["tanh_c"] is None and set(top["gates"]) == {"reset", "keep"}
    assert all(0 <= g.min() and g.max() <= 1 for rec in acts["layers"] for g in rec["gates"].values())


def test_lines_model_reads_each_line_from_a_fresh_state():
    lm = _tiny("rnn", mode="lines", layers=1, embed=0)
    acts = C.activations(lm, "abc\nab\nb")
    alone = C.activations(lm, "ab")
    assert acts["layers"][0]["a"].shape == (8, 6)
    np.testing.assert_allclose(acts["layers"][0]["a"][4:6], alone["layers"][0]["a"], rtol=1e-6)
    np.testing.assert_allclose(acts["layers"][0]["a"][:2], alone["layers"][0]["a"], rtol=1e-6)
    # the newline is read from a fresh state, as the start token of the next line
    np.testing.assert_allclose(acts["layers"][0]["a"][3], acts["layers"][0]["a"][6], rtol=1e-6)
    assert not np.allclose(acts["layers"][0]["a"][3], acts["layers"][0]["a"][2])


def test_ranking_is_pearson_best_first():
    lm = _tiny()
    text = TEXT * 4
    result = C.explain(lm, text, top=3)
    assert result["skipped"] == []
    acts = result["acts"]
    for name in C.FEATURES:
        rows = [row for row in result["cells"] if row["feature"] == name]
        assert len(rows) == 3
        assert [abs(r["r"]) for r in rows] == sorted((abs(r["r"]) for r in rows), reverse=True)
        for row in rows:
            values = acts["layers"][row["layer"]][row["signal"]][:, row["cell"]]
            assert row["r"] == pytest.approx(np.corrcoef(values, result["features"][name])[0, 1], abs=1e-9)
        # nothing unlisted correlates better
        best = max(abs(np.corrcoef(sig[:, j], result["features"][name])[0, 1])
                   for rec in acts["layers"] for sig in [rec["a"], rec["tanh_c"]] for j in range(sig.shape[1]))
        assert abs(rows[0]["r"]) == pytest.approx(best, abs=1e-9)
    sat = result["saturation"]
    assert set(sat) == {"0", "1"} and set(sat["0"]) == {"input", "forget", "output"}
    g = acts["layers"][1]["gates"]["forget"]
    np.testing.assert_allclose(sat["1"]["forget"]["left"], (g < 0.1).mean(axis=0))


def test_page_is_self_contained_and_has_one_span_per_character():
    lm = _tiny()
    result = C.explain(lm, TEXT * 3, features=["vowel", "line_position"])
    page = cells_html(result, "t")
    low = page.lower().replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    for banned in ("<script", "http", "@import", "<link", "<img", "src="):
        assert banned not in low, banned
    refs = re.findall(r"url\(([^)]*)\)", low) + re.findall(r'href="([^"]*)"', low)
    assert refs and all(ref.startswith("#") for ref in refs)       # only the inline figure's own parts
    body = page.split("</h2>", 1)[1]
    assert body.count('<span class="v') >= 2 * len(TEXT * 3)
    assert len(result["shown"]) == 2 and "r = " in result["shown"][0]["title"]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium to render the page")
def test_page_renders_in_chromium(tmp_path):
    lm = _tiny()
    page = tmp_path / "c.html"
    page.write_text(cells_html(C.explain(lm, TEXT * 20), "t"), encoding="utf-8")
    shot = tmp_path / "c.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=900,700", page.as_uri()], capture_output=True, timeout=60, check=True)
    from matplotlib.image import imread

    px = imread(str(shot))[..., :3]
    red = ((px[..., 0] > 0.6) & (px[..., 2] < 0.45)).sum()
    blue = ((px[..., 2] > 0.6) & (px[..., 0] < 0.45)).sum()
    assert red > 200 and blue > 200                     # coloured character backgrounds were drawn


@pytest.mark.data
def test_bundled_shakespeare_has_a_line_position_cell(shakespeare_path):
    """On text with regular lines, some cell of the bundled model tracks the position in the line."""
    lm = C_load("shakespeare")
    text = shakespeare_path.read_text(encoding="utf-8")[:3000]
    rows = C.explain(lm, text, features=["line_position"], top=1)["cells"]
    assert abs(rows[0]["r"]) > 0.5


def C_load(name):
    from seqlab.explore.models import load_text_model

    return load_text_model(name)


def test_cli_html_png_json(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("tyrannosaurus\nallosaurus\nstegosaurus\nbrachiosaurus\n", encoding="utf-8")
    out = tmp_path / "c.html"
    assert main(["explore", "cells", "dinos", str(text), "-o", str(out), "--png", "--json", "--top", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"cells", "saturation"}
    assert {row["feature"] for row in result["cells"]} == {"line_position", "word_start", "vowel"}
    assert all(set(row) == {"layer", "cell", "signal", "feature", "r"} for row in result["cells"])
    assert set(result["saturation"]) == {"0"} and len(result["saturation"]["0"]["forget"]["left"]) == 128
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["explore", "cells", "dinos", str(text), "--cell", "0:5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["cells"]
    assert {(r["layer"], r["cell"]) for r in rows} == {(0, 5)} and len(rows) == 2 * 3   # a, tanh_c × 3 features


def test_cli_bad_input(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("tyrannosaurus\n", encoding="utf-8")
    odd = tmp_path / "odd.txt"
    odd.write_text("tyrannosaurus rex!\n", encoding="utf-8")
    garbage = tmp_path / "g.npz"
    garbage.write_bytes(b"PK\x03\x04 not really")
    cells = ["explore", "cells"]
    fails(capsys, cells + ["dinos", str(text), "--feature", "quotes"], "unknown feature 'quotes'", "line_position")
    fails(capsys, cells + ["dinos", str(text), "--cell", "0:128"], "no such cell", "0–127")
    fails(capsys, cells + ["dinos", str(text), "--cell", "a:b"], "LAYER:CELL")
    fails(capsys, cells + ["dinos", str(odd)], "not in the model's vocabulary", "'!'")
    fails(capsys, cells + ["dinos", str(tmp_path / "none.txt")], "no such file")
    fails(capsys, cells + [str(garbage), str(text)], str(garbage))
    fails(capsys, cells + ["jazz", str(text)], "not a character-level text model")
    fails(capsys, cells + ["dinos", str(text), "--png"], "needs -o")
    fails(capsys, cells + ["dinos", str(text), "-o", str(tmp_path / "c.png")], ".html")
