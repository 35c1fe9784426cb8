"""Optimizers (SGD, Adam) and gradient clipping. Each works on every parameter of the layers it is given.

`layers` may hold layers with `params`/`grads` dicts and containers with a `.layers` list (Stack,
Bidirectional, models); parameters are visited in a fixed order, so optimizer state lines up on reload.
"""

from __future__ import annotations

import numpy as np


def parameters(layers) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(param, grad), …] of every layer inside `layers`, depth first, in insertion order of the dicts."""
    out = []
    for layer in layers:
        if hasattr(layer, "layers"):
            out.extend(parameters(layer.layers))
        for name, p in getattr(layer, "params", {}).items():
            out.append((p, layer.grads[name]))
    return out


def clip_by_value(layers, max_value: float) -> None:
    """Clips every gradient entry to [−max_value, max_value] in place (the course's `clip`)."""
    for _, g in parameters(layers):
        np.clip(g, -max_value, max_value, out=g)


def global_norm(layers) -> float:
    return float(np.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for _, g in parameters(layers))))


def clip_by_global_norm(layers, max_norm: float) -> float:
    """Scales all gradients by max_norm/‖g‖ when their joint norm ‖g‖ exceeds max_norm. Returns ‖g‖ before."""
    norm = global_norm(layers)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for _, g in parameters(layers):
            g *= scale
    return norm


def adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float,
                beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, eps_inside_sqrt: bool = False) -> None:
    """One Adam step on one array, in place: p, m, v change; t counts from 1. All arrays share one shape.

    m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  p ← p − lr·m̂ / (√v̂ + ε), m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ).
    Both corrections are folded into the step size: lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε·√(1 − β2ᵗ)).
    eps_inside_sqrt=True gives the course's rnn_utils variant, p ← p − lr·m̂ / √(v̂ + ε).
    """
    m *= beta1
    m += (1.0 - beta1) * g
    v *= beta2
    v += (1.0 - beta2) * (g * g)
    if eps_inside_sqrt:
        p -= lr * (m / (1.0 - beta1 ** t)) / np.sqrt(v / (1.0 - beta2 ** t) + eps)
        return
    root_c2 = np.sqrt(1.0 - beta2 ** t)
    denom = np.sqrt(v)
    denom += eps * root_c2
    np.divide(m, denom, out=denom)
    p -= (lr * root_c2 / (1.0 - beta1 ** t)) * denom


class SGD:
    """p ← p − lr·g."""

    def __init__(self, layers, lr: float = 0.01):
        self.params = parameters(layers)
        self.lr = float(lr)

    def step(self) -> None:
        for p, g in self.params:
            p -= self.lr * g

    def state_dict(self) -> dict[str, np.ndarray]:
        return {}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        pass


class Adam:
    """Adam with bias correction (Kingma & Ba):

    m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  p ← p − lr·m̂ / (√v̂ + ε), m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ).
    """

    def __init__(self, layers, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.params = parameters(layers)
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.t = 0
        self.m = [np.zeros_like(p) for p, _ in self.params]
        self.v = [np.zeros_like(p) for p, _ in self.params]

    def step(self) -> None:
        self.t += 1
        for (p, g), m, v in zip(self.params, self.m, self.v):
            adam_update(p, g, m, v, self.t, self.lr, self.beta1, self.beta2, self.eps)

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"t": np.array(self.t, np.int64)}
        for k, (m, v) in enumerate(zip(self.m, self.v)):
            state[f"m.{k}"] = m
            state[f"v.{k}"] = v
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        if len([k for k in state if k.startswith("m.")]) != len(self.m):
            raise ValueError("optimizer state does not match the model's parameters")
        self.t = int(state["t"])
        for k in range(len(self.m)):
            self.m[k][...] = state[f"m.{k}"]
            self.v[k][...] = state[f"v.{k}"]
