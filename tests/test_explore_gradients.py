"""seqlab.explore.gradients: the per-step gradients equal PyTorch autograd's; the cells' ordering at the
defaults; the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from explore_cli import fails
from seqlab.cli import main
from seqlab.explore import gradients as G
from seqlab.explore.backprop import state_gradients
from seqlab.explore.models import float64_copy
from seqlab.text.model import CharModel, LanguageModel
from seqlab.text.vocab import Vocabulary

F64 = torch.float64


def _torch_cell(layer):
    """A torch RNNCell/GRUCell/LSTMCell with `layer`'s weights (seqlab keeps the transposes, one bias)."""
    D, H = layer.input_size, layer.hidden_size
    kind = type(layer).__name__
    cell = {"RNN": torch.nn.RNNCell, "GRU": torch.nn.GRUCell, "LSTM": torch.nn.LSTMCell}[kind](D, H, dtype=F64)
    p = layer.params
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(p["W_x"].T.copy()))
        cell.weight_hh.copy_(torch.from_numpy(p["W_h"].T.copy()))
        cell.bias_ih.copy_(torch.from_numpy(p["b"].copy()))
        cell.bias_hh.zero_()
        if "b_hn" in p:
            cell.bias_hh[2 * H:] = torch.from_numpy(p["b_hn"].copy())
    return cell, kind == "LSTM"


def _torch_state_grads(layers, x, g):
    """Autograd's ∂L/∂a⟨t⟩ and ∂L/∂c⟨t⟩ (t = 1 … T) of every layer, L = Σ g · a_top⟨T⟩."""
    cells = [_torch_cell(layer) for layer in layers]
    T, B = x.shape[:2]
    hs = [[] for _ in layers]
    cs = [[] for _ in layers]
    state = [(torch.zeros(B, layer.hidden_size, dtype=F64), torch.zeros(B, layer.hidden_size, dtype=F64))
             for layer in layers]
    for t in range(T):
        inp = x[t]
        for k, (cell, is_lstm) in enumerate(cells):
            if is_lstm:
                h, c = cell(inp, state[k])
                c.retain_grad()
                cs[k].append(c)
            else:
                h = cell(inp, state[k][0])
                c = None
            h.retain_grad()
            hs[k].append(h)
            state[k] = (h, c)
            inp = h
    (hs[-1][-1] * torch.from_numpy(g)).sum().backward()
    da = [np.stack([h.grad.numpy() for h in per]) for per in hs]
    dc = [np.stack([c.grad.numpy() for c in per]) if per else None for per in cs]
    return da, dc


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", "lstm-fb1"])
def test_state_gradients_equal_autograd(cell):
    layer, x, g = G.problem(cell, hidden=6, steps=9, batch=3, scale=1.7, seed=3)
    ours = state_gradients([layer], x, g)
    da, dc = _torch_state_grads([layer], torch.from_numpy(x), g)
    np.testing.assert_allclose(ours["a"][0][1:], da[0], rtol=1e-8, atol=1e-12)
    if cell.startswith("lstm"):
        np.testing.assert_allclose(ours["c"][0][1:], dc[0], rtol=1e-8, atol=1e-12)
    else:
        assert ours["c"][0] is None
    # the norms reported by distance are these gradients' mean norms, step T − k at distance k
    result = G.gradient_norms([cell], hidden=6, steps=9, batch=3, scale=1.7, seed=3)
    expect = np.linalg.norm(da[0], axis=2).mean(axis=1)[::-1]
    np.testing.assert_allclose(result["norms"][cell], expect, rtol=1e-8)
    np.testing.assert_allclose(result["norms"][cell][0], 1.0, rtol=1e-12)


def test_text_model_gradients_equal_autograd_through_a_stack():
    """Two LSTM layers over an embedding: the lower layer's gradient includes the path up through the top."""
    vocab = Vocabulary("\nabc d")
    model = CharModel(vocab.size, "lstm", hidden=5, layers=2, embed=4, rng=np.random.default_rng(1))
    lm = LanguageModel(model, vocab, lower=True, mode="stream")
    text = "ab cad\nbad cab dab"
    result = G.text_gradient_norms(lm, text, steps=11, batch=2, seed=4)
    ids = torch.from_numpy(vocab.encode(text[:11]))
    emb = torch.from_numpy(model.input.params["W"].astype(np.float64))[ids]          # (T, D)
    x = emb[:, None, :].repeat(1, 2, 1)
    g = G.unit_vectors(np.random.default_rng(4), 2, 5)
    da, dc = _torch_state_grads(float64_copy(lm).rnn.layers, x, g)
    for k in range(2):
        np.testing.assert_allclose(result["norms"][f"lstm.{k}"], np.linalg.norm(da[k], axis=2).mean(1)[::-1],
                                   rtol=1e-8)
        np.testing.assert_allclose(result["c_norms"][f"lstm.{k}"], np.linalg.norm(dc[k], axis=2).mean(1)[::-1],
                                   rtol=1e-8)


def test_ordering_over_50_steps_at_the_defaults():
    """The lecture's picture at the defaults: over 50 steps the plain RNN's gradient falls the most, an LSTM
    whose forget gate starts open (bias 1) by far the least."""
    result = G.gradient_norms()
    assert list(result["distance"]) == list(range(100))
    fall = G.falls(result, 50)
    assert fall["rnn"] > fall["lstm"] > fall["gru"] > fall["lstm-fb1"] > 1
    assert fall["rnn"] > 1e8 and fall["lstm-fb1"] < 1e5
    assert fall["lstm"] / fall["lstm-fb1"] > 1e4           # the forget bias alone: four decades and more
    # --scale 3: the RNN's gradient grows instead (explodes)
    assert G.falls(G.gradient_norms(["rnn"], steps=30, scale=3.0), 29)["rnn"] < 1e-2


def test_cli_json_and_figure(tmp_path, capsys):
    out = tmp_path / "g.png"
    assert main(["explore", "gradients", "--cells", "gru,rnn", "--steps", "7", "--hidden", "5", "--batch", "2",
                 "--json", "-o", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"distance", "norms"} and result["distance"] == list(range(7))
    assert list(result["norms"]) == ["gru", "rnn"] and all(len(v) == 7 for v in result["norms"].values())
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ref = G.gradient_norms(["rnn"], hidden=5, steps=7, batch=2)
    np.testing.assert_allclose(result["norms"]["rnn"], ref["norms"]["rnn"], rtol=1e-12)


def test_cli_trained_model_on_a_text(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("Tyrannosaurus\nAllosaurus\nStegosaurus\n", encoding="utf-8")
    assert main(["explore", "gradients", "--model", "dinos", "--text", str(text), "--steps", "20",
                 "--batch", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["norms"]) == ["lstm.0"] and len(result["norms"]["lstm.0"]) == 20
    assert result["norms"]["lstm.0"][0] == pytest.approx(1.0)


@pytest.mark.parametrize("argv,words", [
    (["--cells", "rnn,lstn"], ["unknown name 'lstn'", "lstm-fb1"]),
    (["--cells", ""], ["comma-separated list"]),
    (["--cells", "rnn,,gru"], ["comma-separated list"]),
    (["--steps", "0"], ["steps must be"]),
    (["--scale", "-1"], ["scale"]),
    (["--model", "dinos"], ["--text"]),
    (["-o", "/nonexistent-dir/g.png"], ["does not exist"]),
    (["-o", "g.txt"], [".png"]),
])
def test_cli_bad_input(capsys, argv, words):
    fails(capsys, ["explore", "gradients", "--steps", "3", *argv], *words)


def test_cli_bad_model_and_text(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint at all")
    text = tmp_path / "t.txt"
    text.write_text("Tyrannosaurus&\nfriends\n", encoding="utf-8")
    fails(capsys, ["explore", "gradients", "--model", str(bad), "--text", str(text)], str(bad))
    fails(capsys, ["explore", "gradients", "--model", "dinos", "--text", str(text), "--steps", "20"],
           "not in the model's vocabulary", "'&'")
    text.write_text("Tyrannosaurus\n", encoding="utf-8")
    fails(capsys, ["explore", "gradients", "--model", "dinos", "--text", str(text), "--steps", "500"],
           "needs at least")
    fails(capsys, ["explore", "gradients", "--model", "dinos", "--text", str(tmp_path / "missing.txt")],
           "no such file")
    for extra in (["--scale", "3"], ["--hidden", "7"], ["--cells", "rnn"]):   # were ignored, silently
        fails(capsys, ["explore", "gradients", "--model", "dinos", "--text", str(text), *extra],
              f"{extra[0]} set the freshly initialised cells; with --model the trained model's own cells")


def test_explore_help_lists_the_four(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["explore", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("gradients", "memory", "cells", "sampling"))
    for name in ("gradients", "memory", "cells", "sampling"):
        with pytest.raises(SystemExit) as stop:
            main(["explore", name, "--help"])
        assert stop.value.code == 0 and "--json" in capsys.readouterr().out
