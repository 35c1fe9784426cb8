"""See what the lectures say: numbers and figures computed with the engine's own forward and backward passes.

Each explorer is a module with functions that return plain numbers (dicts of NumPy arrays and floats) and
separate `draw_*` functions that return a matplotlib Figure (Agg canvas, no display; save it with
`seqlab.explore.figures.save_figure(fig, "x.png")`):

- `seqlab.explore.gradients`: `gradient_norms(...)`, `text_gradient_norms(lm, text, ...)`, `falls(result, k)`,
  `draw_gradients(result)` — how far back the last step's gradient reaches in RNN, GRU and LSTM.
- `seqlab.explore.backprop`: `state_gradients(layers, x, g)` — ∂L/∂a⟨t⟩ (and ∂L/∂c⟨t⟩) at every step.
- `seqlab.explore.models`: `load_text_model(name_or_path)`, `float64_copy(lm)`.
- `seqlab.explore.figures`: `new_figure`, `save_figure(fig, path)` (atomic), `check_output`.

`seqlab explore ...` is the command line over these functions.
"""
