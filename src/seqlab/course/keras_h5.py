"""Reading the course's pretrained Keras 2 poem writer (model_shakespeare_kiank_350_epoch.h5) into a CourseModel.

Keras 2 stores an LSTM as kernel (D, 4H), recurrent_kernel (H, 4H) and bias (4H,), gate blocks in the order
i, f, c, o — the same order as PyTorch's i, f, g, o and the engine's, so the arrays load as they are into
W_x, W_h and b. Its recurrent activation is hard_sigmoid. A Dense layer is kernel (in, out) and bias (out,),
the engine's W and b. h5py is needed only here, so it is imported inside the function.
"""

from __future__ import annotations

import json
import os

import numpy as np

from seqlab.course.shakespeare_model import CourseModel
from seqlab.errors import UserError


def _weights(f, layer_name: str) -> dict[str, np.ndarray]:
    """The weight arrays of one layer, by short name ("kernel", "recurrent_kernel", "bias")."""
    group = f["model_weights"][layer_name]
    out = {}
    for raw in group.attrs["weight_names"]:
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        out[name.split("/")[-1].split(":")[0]] = np.asarray(group[name])
    return out


def _layers(f, path) -> list[dict]:
    """The model's layer configs, in order, from the file's `model_config` attribute."""
    raw = f.attrs.get("model_config")
    if raw is None or "model_weights" not in f:
        raise UserError(f"{path} is not a Keras model file (no model_config / model_weights); "
                        "expected a Keras 2 .h5 saved with model.save()")
    config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)["config"]
    return config["layers"] if isinstance(config, dict) else config


def load_keras_model(path: str | os.PathLike) -> CourseModel:
    """A CourseModel holding the weights of a Keras 2 LSTM → Dropout → LSTM → Dropout → Dense → softmax file.

    Shapes are taken from the file (the course's: n_x = 38, n_a = 128, n_y = 38). Dropout rates and the
    recurrent activation come from the file's config too. A file of another architecture is a UserError.
    """
    try:
        import h5py  # optional (tests and interop only): needed just to read the course's file
    except ImportError:
        raise UserError("reading a Keras .h5 model needs the h5py package: pip install h5py") from None
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file; expected the course's Keras model "
                        "(get it with `seqlab data fetch shakespeare-keras`)")
    with h5py.File(path, "r") as f:
        layers = _layers(f, path)
        kinds = [layer["class_name"] for layer in layers if layer["class_name"] != "InputLayer"]
        if kinds[:5] != ["LSTM", "Dropout", "LSTM", "Dropout", "Dense"]:
            raise UserError(f"{path} holds layers {kinds}; expected LSTM, Dropout, LSTM, Dropout, Dense, softmax")
        lstm_cfgs = [layer["config"] for layer in layers if layer["class_name"] == "LSTM"]
        drop_cfg = next(layer["config"] for layer in layers if layer["class_name"] == "Dropout")
        dense_cfg = next(layer["config"] for layer in layers if layer["class_name"] == "Dense")
        w1, w2 = (_weights(f, cfg["name"]) for cfg in lstm_cfgs[:2])
        wd = _weights(f, dense_cfg["name"])

    activations = {cfg.get("recurrent_activation", "hard_sigmoid") for cfg in lstm_cfgs}
    if len(activations) != 1 or not activations <= {"sigmoid", "hard_sigmoid"}:
        raise UserError(f"{path}: unsupported recurrent activation(s) {sorted(activations)}")
    n_x, four_h = w1["kernel"].shape
    model = CourseModel(n_x=n_x, n_a=four_h // 4, n_y=wd["kernel"].shape[1], dropout=float(drop_cfg["rate"]),
                        recurrent_activation=activations.pop(), forget_bias=0.0, seed=0)
    for layer, w in ((model.lstm1, w1), (model.lstm2, w2)):
        layer.set_params(W_x=w["kernel"], W_h=w["recurrent_kernel"], b=w["bias"])
    model.dense.set_params(W=wd["kernel"], b=wd["bias"])
    return model
