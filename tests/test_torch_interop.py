"""seqlab's text models in PyTorch: the weight map both ways, .pt export/import, and PyTorch being optional."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from seqlab.checkpoint import load_checkpoint
from seqlab.cli import main
from seqlab.text.model import CharModel, LanguageModel, load_model
from seqlab.text.vocab import Vocabulary
from seqlab.torch_backend.module import (
    Masks,
    TorchCharModel,
    arrays_from_module,
    module_from_arrays,
    states_from_torch,
    states_to_torch,
)


def _model(cell, embed, layers=2, seed=1):
    m = CharModel(7, cell, hidden=6, layers=layers, embed=embed, dtype=np.float64,
                  rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    m.load_arrays({k: a + 0.1 * rng.standard_normal(a.shape) for k, a in m.arrays().items()})
    return m


def _flat(states):
    return [a for s in states for a in (s if isinstance(s, tuple) else (s,))]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("embed", [0, 5])
def test_seqlab_to_torch_and_back_is_bit_identical_and_computes_the_same(cell, embed):
    m = _model(cell, embed)
    arrays = m.arrays()
    arrays["dense.b"][0] = -0.0          # a negative zero survives too (no bias is added to it)
    m.load_arrays(arrays)
    tm = module_from_arrays(m.config(), arrays)
    back = arrays_from_module(tm)
    assert back.keys() == arrays.keys()
    for k in arrays:
        assert back[k].dtype == arrays[k].dtype and back[k].tobytes() == arrays[k].tobytes(), k
    ids = np.random.default_rng(3).integers(0, 7, (5, 3))
    rng = np.random.default_rng(4)
    h0 = [(rng.standard_normal((3, 6)), rng.standard_normal((3, 6))) if cell == "lstm"
          else rng.standard_normal((3, 6)) for _ in range(2)]
    lp, st = m.log_probs(ids, h0)
    logits, tst = tm(torch.from_numpy(ids), states_to_torch(h0, cell))
    assert np.abs(torch.log_softmax(logits, -1).detach().numpy() - lp).max() < 1e-12
    for a, b in zip(_flat(st), _flat(states_from_torch(tst, cell))):
        assert np.abs(a - b).max() < 1e-12
    # the layer-by-layer path (taken with dropout between layers) is the same network
    ones = Masks(between=[torch.ones(5, 3, 6, dtype=torch.float64)])
    logits2, _ = tm(torch.from_numpy(ids), states_to_torch(h0, cell), masks=ones)
    assert torch.equal(logits2, logits)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_torch_initialised_model_to_seqlab_keeps_its_function(cell):
    """Both torch biases nonzero (torch's own init): seqlab's single bias is their sum, the GRU keeps b_hn."""
    torch.manual_seed(0)
    config = {"vocab_size": 9, "cell": cell, "hidden": 5, "layers": 2, "embed": 4, "dtype": "float64"}
    tm = TorchCharModel(config)
    arrays = arrays_from_module(tm)
    m = CharModel.from_config({**config, "dropout": 0.0, "forget_bias": 0.0, "weight_drop": 0.0})
    m.load_arrays(arrays)
    ids = np.random.default_rng(0).integers(0, 9, (6, 2))
    lp, _ = m.log_probs(ids)
    with torch.no_grad():
        ref = torch.log_softmax(tm(torch.from_numpy(ids))[0], -1).numpy()
    assert np.abs(lp - ref).max() < 1e-12
    again = module_from_arrays(tm.config, arrays)
    for k, v in tm.state_dict().items():
        if "bias_" not in k:
            assert torch.equal(again.state_dict()[k], v), k
    sd, sd2 = tm.state_dict(), again.state_dict()
    assert torch.allclose(sd["rnn.bias_ih_l1"][:10] + sd["rnn.bias_hh_l1"][:10],
                          sd2["rnn.bias_ih_l1"][:10], atol=1e-15)


def test_export_and_import_round_trip_of_a_bundled_model(tmp_path, capsys):
    pt, npz = tmp_path / "dinos.pt", tmp_path / "dinos.npz"
    assert main(["export", "dinos", "--torch", str(pt)]) == 0
    assert "bit-identical" in capsys.readouterr().out
    f = torch.load(pt, weights_only=True)
    assert f["format"] == "seqlab-torch" and f["config"]["cell"] == "lstm"
    model = TorchCharModel(f["config"])
    model.load_state_dict(f["state_dict"])          # a plain state_dict of the documented class
    assert main(["import-torch", str(pt), "-o", str(npz)]) == 0
    capsys.readouterr()
    original, back = load_model("dinos"), load_model(npz)
    a, b = original.model.arrays(), back.model.arrays()
    assert a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)
    assert back.vocab == original.vocab and back.mode == original.mode and back.lower == original.lower
    assert main(["sample", str(npz), "-n", "2", "--no-stream"]) == 0   # the novelty line says why it is missing
    assert capsys.readouterr().err == "novelty not counted: the model holds no training lines (an imported model)\n"
    # an export carries its own vocabulary, case and mode: the bare-state_dict options were ignored, silently
    (names := tmp_path / "names.txt").write_text("aa\nbb\n")
    for extra, what in ((["--mode", "stream"], "the mode given"), (["--keep-case"], "the case given"),
                        (["--vocab", str(names)], "the vocabulary given")):
        assert main(["import-torch", str(pt), "-o", str(tmp_path / "x.npz"), *extra]) == 2
        err = capsys.readouterr().err
        assert "is a seqlab export, which carries its own vocabulary, case and mode" in err and what in err
        assert not (tmp_path / "x.npz").exists()
    assert main(["sample", str(npz), "-n", "3", "--seed", "0"]) == 0
    ours = capsys.readouterr().out
    assert main(["sample", "dinos", "-n", "3", "--seed", "0"]) == 0
    assert capsys.readouterr().out == ours


def test_import_of_a_bare_state_dict_trained_elsewhere(tmp_path, capsys):
    corpus = tmp_path / "names.txt"
    corpus.write_text("abc\nbca\ncab\n")                # vocabulary: '\n' a b c
    torch.manual_seed(1)
    tm = TorchCharModel({"vocab_size": 4, "cell": "gru", "hidden": 3, "layers": 1})
    bare = tmp_path / "bare.pt"
    torch.save(tm.state_dict(), bare)
    out = tmp_path / "m.npz"
    assert main(["import-torch", str(bare), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bare state_dict" in err and "--vocab" in err
    assert not out.exists()
    assert main(["import-torch", str(bare), "-o", str(out), "--vocab", str(corpus)]) == 0
    capsys.readouterr()
    lm = LanguageModel.from_checkpoint(*load_checkpoint(out))
    assert lm.model.config()["cell"] == "gru" and lm.vocab == Vocabulary("\nabc")
    ids = np.array([[0], [1], [2]])
    with torch.no_grad():
        ref = torch.log_softmax(tm(torch.from_numpy(ids))[0].double(), -1).numpy()
    assert np.abs(lm.model.log_probs(ids)[0] - ref).max() < 1e-5
    (tmp_path / "five.txt").write_text("abcd\n")
    assert main(["import-torch", str(bare), "-o", str(out), "--vocab", str(tmp_path / "five.txt")]) == 2
    assert "5 characters but the model 4 outputs" in capsys.readouterr().err


def test_bad_files_are_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    assert main(["import-torch", str(junk), "-o", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a readable PyTorch file" in err
    torch.save({"weights": [1, 2]}, tmp_path / "other.pt")
    assert main(["import-torch", str(tmp_path / "other.pt"), "-o", str(tmp_path / "m.npz")]) == 2
    assert "neither a seqlab .pt export nor" in capsys.readouterr().err
    assert main(["export", "dinos", "--torch", str(tmp_path / "nofolder" / "x.pt")]) == 2
    assert "folder " + str(tmp_path / "nofolder") + " does not exist" in capsys.readouterr().err
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    assert main(["export", "dinos", "--torch", str(notes)]) == 2
    assert "notes.txt exists and is not a PyTorch file, so it is left as it is" in capsys.readouterr().err
    assert main(["import-torch", str(junk), "-o", str(junk)]) == 2
    assert "junk.pt is also a file this command reads" in capsys.readouterr().err
    assert main(["import-torch", str(tmp_path / "other.pt"), "-o", str(notes)]) == 2
    assert "notes.txt exists and is not a seqlab checkpoint" in capsys.readouterr().err
    assert notes.read_text() == "my notes\n" and junk.read_bytes() == b"not a torch file"


def test_without_pytorch_each_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)     # `import torch` now raises ImportError
    for argv in (["export", "dinos", "--torch", str(tmp_path / "d.pt")],
                 ["import-torch", str(tmp_path / "d.pt"), "-o", str(tmp_path / "d.npz")],
                 ["bench", "--repeats", "1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "pip install 'seqlab[torch]'" in err, argv
    assert list(tmp_path.iterdir()) == []


def test_cuda_device_without_cuda_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["bench", "--device", "cuda", "--repeats", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CUDA is not available" in err
    assert main(["bench", "--device", "tpu", "--repeats", "1"]) == 2
    assert "--device must be cpu, cuda or cuda:N" in capsys.readouterr().err
