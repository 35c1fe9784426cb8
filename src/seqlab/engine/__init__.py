"""The engine: every layer's math, written once. Layout is time-major: x has shape (T, B, features)."""

from seqlab.engine import activations, gradcheck, init
from seqlab.engine.gru import GRU
from seqlab.engine.layers import Dense, Dropout, Embedding, OneHot
from seqlab.engine.loss import softmax_cross_entropy
from seqlab.engine.lstm import LSTM
from seqlab.engine.optim import SGD, Adam, clip_by_global_norm, clip_by_value, global_norm, parameters
from seqlab.engine.rnn import RNN
from seqlab.engine.stack import Bidirectional, Stack

__all__ = [
    "activations", "gradcheck", "init", "RNN", "LSTM", "GRU", "Dense", "Dropout", "Embedding", "OneHot",
    "softmax_cross_entropy", "SGD", "Adam", "clip_by_global_norm", "clip_by_value", "global_norm", "parameters",
    "Stack", "Bidirectional",
]
