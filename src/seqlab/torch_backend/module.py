"""seqlab's CharModel as a PyTorch module, and the map between the two weight layouts.

    ids (T, B) -> nn.Embedding (or one-hot) x (T, B, D) -> nn.LSTM|GRU|RNN (T, B, H) -> nn.Linear -> logits (T, B, V)

Gate orders are the same (i, f, g, o and r, z, n); seqlab keeps the transposes and one bias per layer:

    seqlab                          torch (TorchCharModel.state_dict())
    embed.W      (V, E)             embed.weight        (V, E)
    rnn.k.W_x    (D_k, G·H)         rnn.weight_ih_lk    (G·H, D_k)   = W_x.T
    rnn.k.W_h    (H, G·H)           rnn.weight_hh_lk    (G·H, H)     = W_h.T
    rnn.k.b      (G·H,)             rnn.bias_ih_lk      (G·H,)       = b
                                    rnn.bias_hh_lk      (G·H,)       = 0   (GRU: [0, 0, b_hn])
    rnn.k.b_hn   (H,)   GRU only
    dense.W      (H, V)             dense.weight        (V, H)       = W.T
    dense.b      (V,)               dense.bias          (V,)

Back from torch: b = bias_ih + bias_hh (GRU: the r and z blocks only; b_hn = bias_hh's n block), which is
exact, so seqlab -> torch -> seqlab is bit-identical. "Leaves" are seqlab's parameters as tensors, by seqlab's
names and in its layout: what the torch trainer optimises (the torch layout is a view of them), so Adam's
moments line up with seqlab's one for one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

CELLS = {"lstm": (nn.LSTM, 4), "gru": (nn.GRU, 3), "rnn": (nn.RNN, 1)}
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class Masks:
    """Dropout multipliers (0 or 1/(1 − p)) for one training batch; None where nothing is dropped.

    input (T, B, D) on the embedded inputs; between[k − 1] (T, B, H) on the input of recurrent layer k ≥ 1;
    output (T, B, H) before the Dense layer.
    """

    input: torch.Tensor | None = None
    between: list | None = None
    output: torch.Tensor | None = None


class TorchCharModel(nn.Module):
    """seqlab's character model in PyTorch; `config` is seqlab's CharModel.config() dict.

    forward(ids (T, B) int64, state=None, masks=None) -> (logits (T, B, V), state); state is torch's:
    h (L, B, H), or (h, c) for an LSTM. Dropout and DropConnect are recorded in `config` but applied only
    through `masks` and masked weights (seqlab's trainer draws both); without them the model is the
    inference network. Load an exported file with `load_pt` (seqlab.torch_backend.ptfile) or by hand:

        f = torch.load("model.pt", weights_only=True)
        model = TorchCharModel(f["config"]); model.load_state_dict(f["state_dict"])
    """

    def __init__(self, config: dict, device=None):
        super().__init__()
        self.config = dict(config)
        c = self.config
        V, H, L, E = int(c["vocab_size"]), int(c["hidden"]), int(c["layers"]), int(c.get("embed", 0))
        kind = CELLS[c["cell"]][0]
        kw = {"dtype": DTYPES[c.get("dtype", "float32")], "device": device}
        self.vocab_size, self.hidden, self.num_layers = V, H, L
        self.embed = nn.Embedding(V, E, **kw) if E else None
        self.rnn = kind(E or V, H, num_layers=L, **kw)
        self.dense = nn.Linear(H, V, **kw)
        # One-layer stand-ins on the meta device: with masks between the layers, each layer runs on its
        # own, its weights passed in by functional_call (they hold no memory of their own).
        self._layer_templates = [kind(E or V if k == 0 else H, H, device="meta", dtype=kw["dtype"])
                                 for k in range(L)]
        if c["cell"] == "lstm":
            with torch.no_grad():
                for k in range(L):
                    getattr(self.rnn, f"bias_ih_l{k}")[H:2 * H] += float(c.get("forget_bias", 0.0))

    def forward(self, ids: torch.Tensor, state=None, masks: Masks | None = None):
        x = self.embed(ids) if self.embed is not None else F.one_hot(ids, self.vocab_size).to(self.dense.weight)
        masks = masks or Masks()
        if masks.input is not None:
            x = x * masks.input
        if not masks.between or all(m is None for m in masks.between):
            h, state = self.rnn(x, state)
        else:
            h, state = self._layer_by_layer(x, state, masks.between)
        if masks.output is not None:
            h = h * masks.output
        return self.dense(h), state

    def _layer_by_layer(self, x, state, between):
        lstm = self.config["cell"] == "lstm"
        finals = []
        for k, template in enumerate(self._layer_templates):
            if k and between[k - 1] is not None:
                x = x * between[k - 1]
            weights = {f"{n}_l0": getattr(self.rnn, f"{n}_l{k}")
                       for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            s = None
            if state is not None:
                s = (state[0][k:k + 1], state[1][k:k + 1]) if lstm else state[k:k + 1]
            x, s = functional_call(template, weights, (x, s))
            finals.append(s)
        if lstm:
            return x, (torch.cat([s[0] for s in finals]), torch.cat([s[1] for s in finals]))
        return x, torch.cat(finals)


# --- the weight map ---------------------------------------------------------------------------------------
def to_leaves(arrays: dict[str, np.ndarray], device=None, share: bool = False) -> dict[str, torch.Tensor]:
    """seqlab arrays ("rnn.0.W_x" (D, G·H), ...) -> tensors of the same names and layout: the leaves.

    share=True (CPU only) keeps NumPy's memory, so changing a leaf in place changes the array."""
    if share:
        return {k: torch.from_numpy(a) for k, a in arrays.items()}
    return {k: torch.from_numpy(np.ascontiguousarray(a)).to(device, copy=True) for k, a in arrays.items()}


def to_arrays(leaves: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Inverse of `to_leaves`: NumPy copies on the CPU."""
    return {k: np.array(t.detach().cpu().numpy(), copy=True) for k, t in leaves.items()}


def state_dict_from_leaves(config: dict, leaves: dict[str, torch.Tensor], weight_masks=None) -> dict:
    """TorchCharModel's state_dict entries built from seqlab's parameters `leaves` (differentiable, views
    where a transpose is all it takes: the trainer's forward runs on them).

    weight_masks: None, or one (H, G·H) DropConnect multiplier per layer (seqlab's layout) for W_h.
    """
    H, L = int(config["hidden"]), int(config["layers"])
    sd = {}
    if int(config.get("embed", 0)):
        sd["embed.weight"] = leaves["embed.W"]
    for k in range(L):
        b = leaves[f"rnn.{k}.b"]
        W_h = leaves[f"rnn.{k}.W_h"]
        if weight_masks is not None:
            W_h = W_h * weight_masks[k]
        sd[f"rnn.weight_ih_l{k}"] = leaves[f"rnn.{k}.W_x"].T
        sd[f"rnn.weight_hh_l{k}"] = W_h.T
        sd[f"rnn.bias_ih_l{k}"] = b
        zeros = torch.zeros_like(b)
        if f"rnn.{k}.b_hn" in leaves:   # the GRU's bias inside r ∗ (h·W_hn + b_hn)
            zeros = torch.cat([zeros[:2 * H], leaves[f"rnn.{k}.b_hn"]])
        sd[f"rnn.bias_hh_l{k}"] = zeros
    sd["dense.weight"] = leaves["dense.W"].T
    sd["dense.bias"] = leaves["dense.b"]
    return sd


def leaves_from_state_dict(config: dict, sd: dict) -> dict[str, torch.Tensor]:
    """Inverse of `state_dict_from_leaves` (without masks), for any TorchCharModel state_dict.

    b = bias_ih + bias_hh (for a GRU, bias_hh's r and z blocks; its n block is b_hn). When bias_hh's summed
    part is all zeros, b is bias_ih itself, so even a −0.0 comes back as it went out.
    """
    H, L = int(config["hidden"]), int(config["layers"])
    gru = config["cell"] == "gru"
    leaves = {}
    if int(config.get("embed", 0)):
        leaves["embed.W"] = sd["embed.weight"]
    for k in range(L):
        leaves[f"rnn.{k}.W_x"] = sd[f"rnn.weight_ih_l{k}"].T
        leaves[f"rnn.{k}.W_h"] = sd[f"rnn.weight_hh_l{k}"].T
        b_ih, b_hh = sd[f"rnn.bias_ih_l{k}"], sd[f"rnn.bias_hh_l{k}"]
        summed = b_hh.clone()
        if gru:
            summed[2 * H:] = 0
        leaves[f"rnn.{k}.b"] = b_ih + summed if bool(summed.any()) else b_ih
        if gru:
            leaves[f"rnn.{k}.b_hn"] = b_hh[2 * H:]
    leaves["dense.W"] = sd["dense.weight"].T
    leaves["dense.b"] = sd["dense.bias"]
    return leaves


def module_from_arrays(config: dict, arrays: dict[str, np.ndarray], device=None) -> TorchCharModel:
    """A TorchCharModel holding seqlab's parameters `arrays` (CharModel.arrays() names)."""
    model = TorchCharModel(config, device=device)
    sd = state_dict_from_leaves(config, to_leaves(arrays, device))
    model.load_state_dict(sd)
    return model


def arrays_from_module(model: TorchCharModel) -> dict[str, np.ndarray]:
    """seqlab's parameters (CharModel.arrays() names and layout) from a TorchCharModel."""
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    return to_arrays(leaves_from_state_dict(model.config, sd))


# --- recurrent states -------------------------------------------------------------------------------------
def states_to_torch(states, cell: str, device=None):
    """seqlab's states (a list of h (B, H) or (h, c) per layer, or None) -> torch's (L, B, H) form."""
    if states is None:
        return None
    if cell == "lstm":
        return tuple(torch.from_numpy(np.stack([s[j] for s in states])).to(device) for j in (0, 1))
    return torch.from_numpy(np.stack(states)).to(device)


def states_from_torch(state, cell: str):
    """Inverse of `states_to_torch`: plain NumPy arrays, detached from the graph."""
    if state is None:
        return None
    if cell == "lstm":
        h, c = (t.detach().cpu().numpy() for t in state)
        return [(h[k].copy(), c[k].copy()) for k in range(h.shape[0])]
    h = state.detach().cpu().numpy()
    return [h[k].copy() for k in range(h.shape[0])]
