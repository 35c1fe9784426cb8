"""What the cells of a trained character model do (after Karpathy, Johnson and Fei-Fei, "Visualizing and
Understanding Recurrent Networks", 2015).

    acts = activations(lm, text)      # the model reads the text; per layer: "a" (N, H), "tanh_c" (N, H) or
                                      # None, "gates" {"input": (N, H), …}; acts["text"]: the N characters
    feats = text_features(acts["text"])   # {"quote": (N,), "paren", "line_position", "word_start", "vowel"}
    ranked = rank_cells(acts, feats, top=10)   # [{"layer", "cell", "signal", "feature", "r"}, …]
    sat = saturation(acts)            # {"0": {"input": {"left": [H], "right": [H]}, …}, …} (gated layers)
    result = explain(lm, text)        # all of the above in one dict; draw_cells(result) -> Figure

The activations come from the engine's own forward pass (the layers' outputs, cell_states() and
gate_values()): a⟨t⟩ is the layer's output after reading character t; for an LSTM also tanh(c⟨t⟩) and the gates i, f,
o; for a GRU the gates r and z (z keeps the old state). A "lines" model (dinos) starts each line from a fresh
state, as it was trained; a "stream" model (shakespeare) reads the text as one sequence.

Features, one number per character: quote (1 from an opening '"' to its closing one, both included), paren
(1 from an opening bracket ( [ { to its matching close, both included), line_position (characters since the
last newline: the newline is 0), word_start (a letter after a non-letter), vowel (a e i o u). r is Pearson's
correlation over the characters of the text; a feature that does not vary in the text is left out.
"""

from __future__ import annotations

import numpy as np

from seqlab.errors import UserError
from seqlab.explore.threads import one_blas_thread

FEATURES = ("quote", "paren", "line_position", "word_start", "vowel")
GATE_NAMES = {"LSTM": {"i": "input", "f": "forget", "o": "output"}, "GRU": {"r": "reset", "z": "keep"}}
LOW, HIGH = 0.1, 0.9


def text_features(text: str) -> dict[str, np.ndarray]:
    """{feature: (N,) float64} for the N characters of `text` (see the module docstring)."""
    n = len(text)
    quote = np.zeros(n)
    paren = np.zeros(n)
    line_pos = np.zeros(n)
    word_start = np.zeros(n)
    vowel = np.zeros(n)
    inside_quote, depth, since = False, 0, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quote[i] = 1.0
            inside_quote = not inside_quote
        else:
            quote[i] = float(inside_quote)
        if ch in "([{":
            depth += 1
            paren[i] = 1.0
        elif ch in ")]}":
            paren[i] = float(depth > 0)
            depth = max(depth - 1, 0)
        else:
            paren[i] = float(depth > 0)
        since = 0 if ch == "\n" else since + 1
        line_pos[i] = since
        word_start[i] = float(ch.isalpha() and (i == 0 or not text[i - 1].isalpha()))
        vowel[i] = float(ch.lower() in "aeiou")
    return {"quote": quote, "paren": paren, "line_position": line_pos, "word_start": word_start, "vowel": vowel}


def _segments(ids: np.ndarray, lines: bool, start: int):
    """[(ids to read, how many leading ones are context only)]: a stream model reads the text in one go; a
    lines model reads each line from a fresh state, the first one after the start token ('\\n' is itself
    the start of the next line, as in training)."""
    if not lines:
        return [(ids, 0)]
    cuts = [0] + [i for i in np.flatnonzero(ids == start).tolist() if i > 0] + [ids.size]
    segs = [(ids[a:b], 0) for a, b in zip(cuts, cuts[1:]) if b > a]
    if ids[0] != start:
        first, _ = segs[0]
        segs[0] = (np.concatenate([[start], first]), 1)
    return segs


@one_blas_thread
def activations(lm, text: str) -> dict:
    """Run LanguageModel `lm` over `text` (normalised here; an unknown character is a UserError).

    Returns {"text": the N normalised characters, "layers": [{"cell": "lstm"|"gru"|"rnn", "a": (N, H),
    "tanh_c": (N, H) or None, "gates": {name: (N, H)}}, …]} in float64, layer 0 first.
    """
    text = lm.normalize(text)
    if not text:
        raise UserError("the text is empty; expected some characters for the model to read")
    ids = lm.encode(text)
    model = lm.model
    parts = [[] for _ in model.rnn.layers]
    for seg, skip in _segments(ids, lm.mode == "lines", lm.start_id):
        x = seg[:, None]
        x = model.input.forward(x, cache=False) if model.embed else x
        for k, layer in enumerate(model.rnn.layers):
            x, _ = layer.forward(x, cache=True)          # cache=True: the gates and cells stay readable
            kind = type(layer).__name__
            rec = {"a": x[skip:, 0]}
            if layer.has_cell:
                rec["tanh_c"] = np.tanh(layer.cell_states()[skip:, 0])
            if kind in GATE_NAMES:
                gates = layer.gate_values()
                rec.update({name: gates[letter][skip:, 0] for letter, name in GATE_NAMES[kind].items()})
            parts[k].append(rec)
    out = []
    for layer, recs in zip(model.rnn.layers, parts):
        kind = type(layer).__name__

        def joined(key):
            return np.concatenate([r[key] for r in recs]).astype(np.float64)

        out.append({"cell": kind.lower(), "a": joined("a"), "tanh_c": joined("tanh_c") if layer.has_cell else None,
                    "gates": {name: joined(name) for name in GATE_NAMES.get(kind, {}).values()}})
    return {"text": text, "layers": out}


def pearson(signals: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson's r of each column of signals (N, M) with feature (N,): (M,); 0 for a constant column."""
    s = signals - signals.mean(axis=0)
    f = feature - feature.mean()
    denom = np.linalg.norm(s, axis=0) * np.linalg.norm(f)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (f @ s) / denom
    return np.where(denom > 0, r, 0.0)


def _signals(acts: dict):
    """[(layer, signal name, (N, H))] of every recorded signal."""
    out = []
    for k, rec in enumerate(acts["layers"]):
        out.append((k, "a", rec["a"]))
        if rec["tanh_c"] is not None:
            out.append((k, "tanh_c", rec["tanh_c"]))
    return out


def parse_cell(spec: str, acts_or_model) -> tuple[int, int]:
    """"L:K" -> (layer, cell), checked against the model's layers and sizes; UserError otherwise."""
    sizes = ([rec["a"].shape[1] for rec in acts_or_model["layers"]] if isinstance(acts_or_model, dict)
             else [layer.hidden_size for layer in acts_or_model.rnn.layers])
    shape = ", ".join(f"layer {k}: cells 0–{h - 1}" for k, h in enumerate(sizes))
    try:
        layer_s, cell_s = str(spec).split(":")
        layer, cell = int(layer_s), int(cell_s)
    except ValueError:
        raise UserError(f"--cell {spec!r}: expected LAYER:CELL, two whole numbers such as 0:17 ({shape})") from None
    if not (0 <= layer < len(sizes) and 0 <= cell < sizes[layer]):
        raise UserError(f"--cell {spec}: no such cell; this model has {shape}")
    return layer, cell


def check_features(features) -> list[str]:
    features = list(FEATURES if features is None else features)
    for f in features:
        if f not in FEATURES:
            raise UserError(f"unknown feature {f!r}; expected one of {', '.join(FEATURES)}")
    return features


def rank_cells(acts: dict, feats: dict, features=None, cell: tuple[int, int] | None = None,
               top: int | None = 10) -> list[dict]:
    """[{"layer", "cell", "signal", "feature", "r"}], for each feature (in FEATURES order) best first by |r|:
    the `top` best of every cell and signal, or with cell=(layer, k) that cell's signals only. Features that
    are constant over the text are left out."""
    out = []
    for name in check_features(features):
        f = feats[name]
        if np.ptp(f) == 0:
            continue
        rows = []
        for k, signal, values in _signals(acts):
            if cell is not None and k != cell[0]:
                continue
            r = pearson(values if cell is None else values[:, [cell[1]]], f)
            idx = np.arange(values.shape[1]) if cell is None else np.array([cell[1]])
            rows += [(abs(float(v)), k, int(j), signal, float(v)) for j, v in zip(idx, r)]
        rows.sort(key=lambda row: (-row[0], row[1], row[2], row[3]))
        for _, k, j, signal, r in rows[:top] if top else rows:
            out.append({"layer": k, "cell": j, "signal": signal, "feature": name, "r": r})
    return out


def saturation(acts: dict, low: float = LOW, high: float = HIGH) -> dict:
    """{"<layer>": {gate: {"left": (H,) fraction of characters with the gate < low, "right": > high}}} for
    every gated layer (LSTM: input, forget, output; GRU: reset, keep) — the paper's Fig. 3."""
    out = {}
    for k, rec in enumerate(acts["layers"]):
        if rec["gates"]:
            out[str(k)] = {name: {"left": (g < low).mean(axis=0), "right": (g > high).mean(axis=0)}
                           for name, g in rec["gates"].items()}
    return out


def explain(lm, text: str, features=None, cell: str | None = None, top: int = 10) -> dict:
    """Everything the cells explorer shows: {"text", "acts", "cells" (rank_cells), "saturation", "shown"},
    where "shown" lists the blocks to draw: [{"layer", "cell", "signal", "title", "values" (N,)}]."""
    features = check_features(features)
    acts = activations(lm, text)
    feats = text_features(acts["text"])
    chosen = parse_cell(cell, acts) if cell is not None else None
    ranked = rank_cells(acts, feats, features, chosen, top=top)
    shown = []
    if chosen is None:
        for name in features:
            best = next((row for row in ranked if row["feature"] == name), None)
            if best is not None:
                shown.append(_block(acts, best, f"{name}: layer {best['layer']}, cell {best['cell']}, "
                                                f"{_signal_name(best['signal'])} — r = {best['r']:+.3f}",
                                    _focus(acts["text"], feats[name], name)))
    else:
        layer, k = chosen
        for signal in ("a", "tanh_c"):
            if signal == "tanh_c" and acts["layers"][layer]["tanh_c"] is None:
                continue
            rs = ", ".join(f"{row['feature']} {row['r']:+.3f}" for row in ranked if row["signal"] == signal)
            shown.append(_block(acts, {"layer": layer, "cell": k, "signal": signal},
                                f"layer {layer}, cell {k}, {_signal_name(signal)} — r: {rs or 'no varying feature'}"))
    skipped = [name for name in features if np.ptp(feats[name]) == 0]
    return {"text": acts["text"], "acts": acts, "features": feats, "cells": ranked,
            "saturation": saturation(acts), "shown": shown, "skipped": skipped}


def _signal_name(signal: str) -> str:
    return "tanh(c)" if signal == "tanh_c" else "a"


def _focus(text: str, feature: np.ndarray, name: str) -> int:
    """Where a picture of the first lines should start for this feature: for the sparse ones (quote, paren)
    the line before the first character that has it, else 0."""
    if name not in ("quote", "paren") or not feature.any():
        return 0
    first = int(np.argmax(feature > 0))
    line_start = text.rfind("\n", 0, first) + 1
    return text.rfind("\n", 0, max(line_start - 1, 0)) + 1 if line_start else 0


def _block(acts, row, title, start: int = 0) -> dict:
    """One shown cell: its values at every character, and `start`, where a short picture should begin."""
    values = acts["layers"][row["layer"]][row["signal"]][:, row["cell"]]
    return {"layer": row["layer"], "cell": row["cell"], "signal": row["signal"], "title": title,
            "values": values, "start": start}
