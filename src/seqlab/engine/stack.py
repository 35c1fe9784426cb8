"""Compositions of recurrent layers: a deep (stacked) RNN and the bidirectional wrapper."""

from __future__ import annotations

import numpy as np

from seqlab.engine.layers import Dropout


class Stack:
    """Recurrent layers applied in turn, with inverted dropout between them (not after the last).

    forward: x (T, B, D) -> out (T, B, H_last); states is a list with one state per layer (or None).
    """

    def __init__(self, layers: list, dropout: float = 0.0, rng=None, shared_axis: int | None = None):
        if not layers:
            raise ValueError("layers must hold at least one recurrent layer")
        for below, above in zip(layers, layers[1:]):
            if above.input_size != below.output_size:
                raise ValueError(f"layer sizes do not chain: {below.output_size} outputs feed "
                                 f"{above.input_size} inputs")
        self.layers = list(layers)
        self.dropouts = [Dropout(dropout, rng, shared_axis) for _ in layers[1:]]   # shared_axis: see Dropout

    @property
    def input_size(self) -> int:
        return self.layers[0].input_size

    @property
    def output_size(self) -> int:
        return self.layers[-1].output_size

    def forward(self, x, states=None, cache: bool = True, training: bool = True):
        """x (T, B, D), states list (len = layers) or None -> (out (T, B, H), new states list)."""
        if states is None:
            states = [None] * len(self.layers)
        if len(states) != len(self.layers):
            raise ValueError(f"states must be a list of {len(self.layers)} states, got {len(states)}")
        new_states = []
        h = x
        for k, (layer, state) in enumerate(zip(self.layers, states)):
            if k:
                h = self.dropouts[k - 1].forward(h, training=training)
            h, s = layer.forward(h, state, cache=cache)
            new_states.append(s)
        return h, new_states

    def backward(self, dout, dstates=None, need_dx: bool = True, need_dstate: bool = True):
        """dout (T, B, H) or None, dstates list or None -> (dx (T, B, D), list of d initial states).

        need_dx=False skips the bottom layer's dx (returns None) when the input is data; need_dstate=False
        skips the initial states' gradients (each None), as each layer's backward does."""
        if dstates is None:
            dstates = [None] * len(self.layers)
        d0 = [None] * len(self.layers)
        d = dout
        for k in range(len(self.layers) - 1, -1, -1):
            d, d0[k] = self.layers[k].backward(d, dstates[k], need_dx=need_dx or k > 0, need_dstate=need_dstate)
            if k:
                d = self.dropouts[k - 1].backward(d)
        return d, d0


class Bidirectional:
    """Runs one layer forward in time and another backward in time; out (T, B, H_f + H_b) joins both.

    state is a pair (state_forward, state_backward) or None; the backward layer's state is its state at
    t = T (it starts at the end).
    """

    def __init__(self, forward_layer, backward_layer):
        if forward_layer.input_size != backward_layer.input_size:
            raise ValueError("both directions must take the same input size")
        self.layers = [forward_layer, backward_layer]

    @property
    def input_size(self) -> int:
        return self.layers[0].input_size

    @property
    def output_size(self) -> int:
        return self.layers[0].output_size + self.layers[1].output_size

    def forward(self, x, state=None, cache: bool = True):
        """x (T, B, D) -> (out (T, B, H_f + H_b), (final state forward, final state backward))."""
        if state is not None and not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise ValueError("state must be a pair (state forward, state backward), or None")
        sf, sb = (None, None) if state is None else state
        out_f, st_f = self.layers[0].forward(x, sf, cache=cache)
        out_b, st_b = self.layers[1].forward(x[::-1].copy(), sb, cache=cache)
        return np.concatenate([out_f, out_b[::-1]], axis=2), (st_f, st_b)

    def backward(self, dout, dstate=None, need_dx: bool = True, need_dstate: bool = True):
        """dout (T, B, H_f + H_b) or None -> (dx (T, B, D) or None, (d state forward, d state backward));
        need_dstate=False: each d state is None (see the layers' backward)."""
        dsf, dsb = (None, None) if dstate is None else dstate
        Hf = self.layers[0].output_size
        if dout is not None and (not isinstance(dout, np.ndarray) or dout.ndim != 3
                                 or dout.shape[2] != self.output_size):
            raise ValueError(f"dout must have shape (T, B, {self.output_size}), got "
                             f"{getattr(dout, 'shape', type(dout).__name__)}")
        df = None if dout is None else np.ascontiguousarray(dout[:, :, :Hf])
        db = None if dout is None else np.ascontiguousarray(dout[::-1, :, Hf:])
        dx_f, d0f = self.layers[0].backward(df, dsf, need_dx=need_dx, need_dstate=need_dstate)
        dx_b, d0b = self.layers[1].backward(db, dsb, need_dx=need_dx, need_dstate=need_dstate)
        if dx_f is None or dx_b is None:                       # id inputs have no dx
            return None, (d0f, d0b)
        return (dx_f + dx_b[::-1] if need_dx else None), (d0f, d0b)
