"""See what the lectures say: numbers and figures computed with the engine's own forward and backward passes.

Each explorer is a module with functions that return plain numbers (dicts of NumPy arrays, lists and floats)
and separate `draw_*` functions that return a matplotlib Figure (an Agg canvas, no display needed; save it
with `seqlab.explore.figures.save_figure(fig, "x.png")`, or show it in a notebook by leaving it as the last
expression of a cell). Every module's docstring lists its functions and the shapes they return.

- `seqlab.explore.gradients`: `gradient_norms(cells, hidden, steps, batch, scale, seed)`,
  `text_gradient_norms(lm, text, steps, batch, seed)`, `falls(result, k)`, `draw_gradients(result)` — how far
  back the last step's gradient reaches in RNN, GRU and LSTM (forget bias 0 or 1).
- `seqlab.explore.backprop`: `state_gradients(layers, x, g)` — ∂L/∂a⟨t⟩ (and ∂L/∂c⟨t⟩) at every step.
- `seqlab.explore.memory`: `recall_batch(rng, lag, batch)`, `train_recall(cell, lag, ...)`,
  `recall_accuracy(cells, lags, hidden, steps, seed)`, `draw_memory(result)` — the recall task.
- `seqlab.explore.cells`: `activations(lm, text)`, `text_features(text)`, `pearson(signals, feature)`,
  `rank_cells(...)`, `saturation(acts)`, `explain(lm, text, ...)` — what a trained model's cells track;
  `seqlab.explore.cells_page`: `cells_html(result, title)`, `draw_cells(result)`, `draw_saturation(result)`.
- `seqlab.explore.sampling`: `temperature_report(lm, prefix, temperatures, ...)`, `entropy(p)`,
  `draw_sampling(result)` — temperature and the next-character distribution.
- `seqlab.explore.models`: `load_text_model(name_or_path)` ("dinos", "shakespeare" or a path),
  `float64_copy(lm)`; `seqlab.explore.figures`: `new_figure`, `save_figure(fig, path)` (atomic).

    from seqlab.explore import gradients
    result = gradients.gradient_norms(["rnn", "lstm-fb1"], steps=50)
    gradients.falls(result, 49)            # {"rnn": ~1e10, "lstm-fb1": ~1e4}
    fig = gradients.draw_gradients(result)

`seqlab explore gradients|memory|cells|sampling` is the command line over these functions.
"""
