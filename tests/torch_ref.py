"""Copying weights between seqlab layers and torch.nn.RNN/LSTM/GRU (tests only).

torch keeps weight_ih (G·H, D) and weight_hh (G·H, H) with the same gate order as seqlab (i, f, g, o and
r, z, n) and two biases; seqlab keeps the transposes and one bias, plus b_hn for the GRU's n block.
"""

from __future__ import annotations

import numpy as np
import torch


def copy_to_torch(layers, module: torch.nn.Module, layer_index: int, suffix: str = "") -> None:
    """Writes seqlab `layers` parameters into the torch module's layer `layer_index` (suffix '_reverse')."""
    p = layers.params
    H = layers.hidden_size
    name = f"l{layer_index}{suffix}"
    with torch.no_grad():
        getattr(module, f"weight_ih_{name}").copy_(torch.from_numpy(p["W_x"].T.copy()))
        getattr(module, f"weight_hh_{name}").copy_(torch.from_numpy(p["W_h"].T.copy()))
        getattr(module, f"bias_ih_{name}").copy_(torch.from_numpy(p["b"].copy()))
        b_hh = getattr(module, f"bias_hh_{name}")
        b_hh.zero_()
        if "b_hn" in p:
            b_hh[2 * H:] = torch.from_numpy(p["b_hn"].copy())


def grads_from_torch(layer, module: torch.nn.Module, layer_index: int, suffix: str = "") -> dict[str, np.ndarray]:
    """torch's gradients in seqlab's names and layouts (bias_hh's r, z parts equal bias_ih's)."""
    H = layer.hidden_size
    name = f"l{layer_index}{suffix}"
    g = {
        "W_x": getattr(module, f"weight_ih_{name}").grad.numpy().T,
        "W_h": getattr(module, f"weight_hh_{name}").grad.numpy().T,
        "b": getattr(module, f"bias_ih_{name}").grad.numpy(),
    }
    if "b_hn" in layer.params:
        g["b_hn"] = getattr(module, f"bias_hh_{name}").grad.numpy()[2 * H:]
    return g
