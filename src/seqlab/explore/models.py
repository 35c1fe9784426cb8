"""Loading the trained text models the explorers look at."""

from __future__ import annotations

import numpy as np

from seqlab.engine import init
from seqlab.explore.threads import one_blas_thread


@one_blas_thread   # the network is built with random weights (QRs) before the saved ones are copied in
def load_text_model(name_or_path):
    """A LanguageModel from a checkpoint path or a bundled name ("dinos", "shakespeare"); a file that is not
    a seqlab text model is a UserError."""
    from seqlab.text.model import load_model

    return load_model(name_or_path)


@one_blas_thread
def float64_copy(lm):
    """The LanguageModel's network (a CharModel) rebuilt in float64 with the same weights."""
    from seqlab.text.model import CharModel

    with init.skipped():                           # the weights are loaded next
        model = CharModel.from_config({**lm.model.config(), "dtype": "float64"}, rng=np.random.default_rng(0))
    model.load_arrays(lm.model.arrays())
    return model
