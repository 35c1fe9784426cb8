"""seqlab: recurrent sequence models (RNN, LSTM, GRU) in NumPy with exact backpropagation through time."""

__version__ = "0.1.0"
