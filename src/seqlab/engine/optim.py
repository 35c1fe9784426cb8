"""Optimizers (SGD, Adam) and gradient clipping. Each works on every parameter of the layers it is given.

`layers` may hold layers with `params`/`grads` dicts and containers with a `.layers` list (Stack,
Bidirectional, models); parameters are visited in a fixed order, so optimizer state lines up on reload.
"""

from __future__ import annotations

import math

import numpy as np


def _owners(layers) -> list[tuple[object, str]]:
    """[(layer, parameter name), …] of every layer inside `layers`, depth first, in insertion order."""
    out = []
    for layer in layers:
        if hasattr(layer, "layers"):
            out.extend(_owners(layer.layers))
        out.extend((layer, name) for name in getattr(layer, "params", {}))
    return out


def parameters(layers) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(param, grad), …] of every layer inside `layers`, depth first, in insertion order of the dicts."""
    return [(layer.params[name], layer.grads[name]) for layer, name in _owners(layers)]


def flatten(layers) -> tuple[np.ndarray, np.ndarray] | None:
    """Moves every parameter and gradient of `layers` into one flat buffer each, in `parameters` order, and
    puts views of them in the layers' dicts (values kept). Returns (flat params, flat grads), or None (and
    changes nothing) when the parameters do not share one dtype or one array appears twice.

    Then an elementwise update of all parameters is one NumPy call instead of one per array (at the course's
    sizes each call's fixed cost is most of the work). The layers write their gradients into their `grads`
    arrays (out=...) and are updated in place, so they work on the views unchanged; arrays taken from the
    dicts before this call are no longer the layers' own."""
    owners = _owners(layers)
    pairs = parameters(layers)
    done = _flat_grads(pairs), _flat_grads([(g, p) for p, g in pairs])
    if done[0] is not None and done[1] is not None:       # flattened before (another optimizer): share it
        return done[1], done[0]
    arrays = [p for p, _ in pairs]
    if not arrays or len({a.dtype for a in arrays}) != 1 or len({id(a) for a in arrays}) != len(arrays):
        return None
    flat_p = np.empty(sum(a.size for a in arrays), arrays[0].dtype)
    flat_g = np.zeros_like(flat_p)
    for (layer, name), p, g in zip(owners, _views(flat_p, pairs), _views(flat_g, pairs)):
        p[...] = layer.params[name]
        g[...] = layer.grads[name]
        layer.params[name], layer.grads[name] = p, g
    return flat_p, flat_g


def _views(flat: np.ndarray, pairs) -> list[np.ndarray]:
    """Consecutive views of `flat` shaped like the parameters of `pairs`."""
    out, start = [], 0
    for p, _ in pairs:
        out.append(flat[start:start + p.size].reshape(p.shape))
        start += p.size
    return out


def _flat_grads(pairs) -> np.ndarray | None:
    """The flat buffer behind all gradients of `pairs` when `flatten` put them there, else None."""
    base = pairs[0][1].base if pairs else None
    if base is None or base.ndim != 1 or sum(g.size for _, g in pairs) != base.size \
            or any(g.base is not base for _, g in pairs):
        return None
    return base


def _grad_arrays(layers) -> list[np.ndarray]:
    """The gradients of `layers`: one flat array when `flatten` gathered them, else one per parameter."""
    pairs = parameters(layers)
    flat = _flat_grads(pairs)
    return [g for _, g in pairs] if flat is None else [flat]


def _check(name: str, value, ok, want: str) -> float:
    """float(value), or ValueError naming the setting: a negative clip limit or a β of 1 gives gradients or
    parameters that are silently wrong (reversed, or NaN after one step)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, (str, bytes)) or not (math.isfinite(v) and ok(v)):
        raise ValueError(f"{name} must be {want}, got {value!r}")
    return v


def _positive(name: str, value) -> float:
    return _check(name, value, lambda v: v > 0, "a positive number")


def clip_by_value(layers, max_value: float) -> None:
    """Clips every gradient entry to [−max_value, max_value] in place (the course's `clip`)."""
    max_value = _positive("max_value", max_value)
    for g in _grad_arrays(layers):
        np.clip(g, -max_value, max_value, out=g)


def global_norm(layers) -> float:
    """‖g‖ over all gradients: one dot product per parameter array, summed in float64 in `parameters` order
    (so the value does not depend on whether `flatten` gathered the arrays)."""
    return float(np.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for _, g in parameters(layers))))


def clip_by_global_norm(layers, max_norm: float) -> float:
    """Scales all gradients by max_norm/‖g‖ when their joint norm ‖g‖ exceeds max_norm. Returns ‖g‖ before."""
    max_norm = _positive("max_norm", max_norm)
    norm = global_norm(layers)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for g in _grad_arrays(layers):
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
        self.flat = flatten(layers)   # one update over all parameters (see Adam)
        self.params = parameters(layers)
        self.lr = _positive("lr", lr)

    def step(self) -> None:
        for p, g in [self.flat] if self.flat is not None else self.params:
            p -= self.lr * g

    def state_dict(self) -> dict[str, np.ndarray]:
        return {}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        pass


class Adam:
    """Adam with bias correction (Kingma & Ba):

    m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  p ← p − lr·m̂ / (√v̂ + ε), m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ).

    The layers' parameters and gradients are gathered into one flat buffer each (`flatten`), so a step is one
    `adam_update` over all of them: the same numbers as one call per array (the update is elementwise).
    """

    def __init__(self, layers, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.flat = flatten(layers)
        self.params = parameters(layers)
        self.lr, self.eps = _positive("lr", lr), _positive("eps", eps)
        self.beta1, self.beta2 = (_check(name, b, lambda v: 0 <= v < 1, "in [0, 1)")
                                  for name, b in (("beta1", beta1), ("beta2", beta2)))
        self.t = 0
        if self.flat is None:
            self.m = [np.zeros_like(p) for p, _ in self.params]
            self.v = [np.zeros_like(p) for p, _ in self.params]
            return
        self._m, self._v = np.zeros_like(self.flat[0]), np.zeros_like(self.flat[0])
        self.m, self.v = _views(self._m, self.params), _views(self._v, self.params)   # per array: state_dict

    def step(self) -> None:
        self.t += 1
        if self.flat is not None:
            adam_update(*self.flat, self._m, self._v, self.t, self.lr, self.beta1, self.beta2, self.eps)
            return
        for (p, g), m, v in zip(self.params, self.m, self.v):
            adam_update(p, g, m, v, self.t, self.lr, self.beta1, self.beta2, self.eps)

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"t": np.array(self.t, np.int64)}
        for k, (m, v) in enumerate(zip(self.m, self.v)):
            state[f"m.{k}"] = m
            state[f"v.{k}"] = v
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        want = {"t", *(f"{a}.{k}" for k in range(len(self.m)) for a in "mv")}
        if set(state) != want or any(np.shape(state[f"{a}.{k}"]) != m.shape
                                     for k, m in enumerate(self.m) for a in "mv"):
            raise ValueError("optimizer state does not match the model's parameters: expected t and m.k, v.k "
                             f"of shapes {[m.shape for m in self.m]}")
        self.t = int(state["t"])
        for k in range(len(self.m)):
            self.m[k][...] = state[f"m.{k}"]
            self.v[k][...] = state[f"v.{k}"]
