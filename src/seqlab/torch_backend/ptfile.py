"""seqlab text models to and from PyTorch .pt files, each direction checked for equality.

A file written by `export_pt` is what `torch.save` writes for a plain dict (readable with
`torch.load(path, weights_only=True)`, no pickled code):

    {"format": "seqlab-torch", "format_version": 1,
     "config": CharModel.config(),                 # builds TorchCharModel(config)
     "vocab": "<the characters, id order>", "lower": bool, "mode": "lines" | "stream",
     "state_dict": TorchCharModel.state_dict()}    # plain tensors, torch's names and layout

`import_pt` also takes a bare state_dict of a TorchCharModel trained elsewhere; the network's shape is read
from the tensors, and the vocabulary must then be given (the characters of the corpus it was trained on).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import torch

from seqlab.engine import init
from seqlab.errors import UserError
from seqlab.fileio import atomic_output
from seqlab.text.model import CharModel, LanguageModel
from seqlab.text.vocab import Vocabulary
from seqlab.torch_backend.module import (
    CELLS,
    TorchCharModel,
    leaves_from_state_dict,
    module_from_arrays,
    to_arrays,
)

FORMAT, FORMAT_VERSION = "seqlab-torch", 1


def _probe(vocab_size: int) -> np.ndarray:
    """Fixed ids (T=12, B=3) on which both networks are compared."""
    return np.random.default_rng(12345).integers(0, vocab_size, size=(12, 3))


def max_logit_gap(lm: LanguageModel, module: TorchCharModel) -> float:
    """Largest |log p_seqlab − log p_torch| over the probe, both in float64 (the weights as they are)."""
    ids = _probe(lm.model.vocab_size)
    ours, _ = lm.model.log_probs(ids)
    with torch.no_grad():
        logits, _ = copy.deepcopy(module).to("cpu", torch.float64)(torch.from_numpy(ids))
        theirs = torch.log_softmax(logits, dim=-1).numpy()
    return float(np.max(np.abs(ours - theirs)))


def _check_same(lm: LanguageModel, module: TorchCharModel, what: str) -> float:
    """Compare the two networks on the probe; UserError when they disagree beyond float rounding."""
    gap = max_logit_gap(lm, module)
    tol = 1e-4 if lm.model.dtype == np.float32 else 1e-9
    if not gap <= tol:
        raise UserError(f"{what}: the PyTorch and seqlab networks disagree (log-probabilities differ by "
                        f"{gap:.3g} > {tol:g}); the file is not a model of this shape")
    return gap


def export_pt(lm: LanguageModel, path: str | os.PathLike) -> dict:
    """Write `lm` as a .pt file (atomically); read it back and check it. Returns {"path", "max_gap"}."""
    config = lm.model.config()
    arrays = lm.model.arrays()
    module = module_from_arrays(config, arrays)
    obj = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": config,
           "vocab": "".join(lm.vocab.chars), "lower": bool(lm.lower), "mode": lm.mode,
           "state_dict": module.state_dict()}
    path = Path(path)
    with atomic_output(path) as f:
        torch.save(obj, f)
    back = load_pt(path)
    again = back.model.arrays()
    same = arrays.keys() == again.keys() and all(
        arrays[k].dtype == again[k].dtype and arrays[k].tobytes() == again[k].tobytes() for k in arrays)
    if not same:  # pragma: no cover - the map is exact; this guards the file itself
        raise UserError(f"{path}: reading the written file back does not give the same weights")
    return {"path": str(path), "max_gap": _check_same(lm, module_from_arrays(config, arrays), str(path))}


def infer_config(sd: dict) -> dict:
    """CharModel.config() of a bare TorchCharModel state_dict, read from its tensors' shapes."""
    try:
        V, H = sd["dense.weight"].shape
        G = sd["rnn.weight_hh_l0"].shape[0] // H
        layers = sum(1 for k in sd if k.startswith("rnn.weight_ih_l"))
        embed = sd["embed.weight"].shape[1] if "embed.weight" in sd else 0
    except (KeyError, AttributeError, ValueError, ZeroDivisionError):
        raise UserError("not a TorchCharModel state_dict (expected dense.weight, rnn.weight_ih_l0, ...)") \
            from None
    cell = {g: name for name, (_, g) in CELLS.items()}.get(G)
    if cell is None:
        raise UserError(f"rnn.weight_hh_l0 has {G}·H rows; expected 4·H (LSTM), 3·H (GRU) or H (RNN)")
    dtype = {torch.float32: "float32", torch.float64: "float64"}.get(sd["dense.weight"].dtype)
    if dtype is None:
        raise UserError(f"tensors are {sd['dense.weight'].dtype}; expected float32 or float64")
    return {"vocab_size": int(V), "cell": cell, "hidden": int(H), "layers": layers, "dropout": 0.0,
            "embed": int(embed), "forget_bias": 0.0, "weight_drop": 0.0, "dtype": dtype}


def load_pt(path: str | os.PathLike, vocab: Vocabulary | None = None, lower: bool | None = None,
            mode: str | None = None) -> LanguageModel:
    """A LanguageModel from a .pt file (seqlab's format, or a bare state_dict with `vocab` given).

    Checked: the seqlab network and a TorchCharModel loaded from the file agree on a probe.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a foreign or damaged file
        raise UserError(f"{path} is not a readable PyTorch file ({type(exc).__name__})") from None
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        if obj.get("format_version", 0) > FORMAT_VERSION:
            raise UserError(f"{path} has format version {obj['format_version']}; this seqlab reads "
                            f"{FORMAT_VERSION}: upgrade seqlab")
        given = [k for k, v in (("vocabulary", vocab), ("case", lower), ("mode", mode)) if v is not None]
        if given:   # they used to be ignored, silently
            raise UserError(f"{path} is a seqlab export, which carries its own vocabulary, case and mode; "
                            f"the {', '.join(given)} given is for a bare state_dict only")
        config, sd = obj["config"], obj["state_dict"]
        vocab, lower, mode = Vocabulary(obj["vocab"]), bool(obj["lower"]), obj["mode"]
    elif isinstance(obj, dict) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        try:
            config = infer_config(obj)
        except UserError as exc:
            raise UserError(f"{path}: {exc}") from None
        sd = obj
        lower = True if lower is None else lower
        mode = "lines" if mode is None else mode
        if vocab is None:
            raise UserError(f"{path} is a bare state_dict: give the vocabulary (--vocab CORPUS, the text "
                            f"it was trained on)")
    else:
        raise UserError(f"{path} is neither a seqlab .pt export nor a TorchCharModel state_dict")
    if vocab.size != int(config["vocab_size"]):
        raise UserError(f"{path}: the vocabulary has {vocab.size} characters but the model "
                        f"{config['vocab_size']} outputs")
    module = TorchCharModel(config)
    try:
        module.load_state_dict(sd)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise UserError(f"{path}: the state_dict does not fit its configuration ({first})") from None
    with init.skipped():                           # the weights are loaded next
        model = CharModel.from_config(config, rng=np.random.default_rng(0))
    model.load_arrays(to_arrays(leaves_from_state_dict(config, {k: v.detach() for k, v in sd.items()})))
    lm = LanguageModel(model, vocab, lower, mode)
    _check_same(lm, module, str(path))
    return lm

