"""seqlab's character models in PyTorch: the same network, its weights in torch's layout, on CPU or GPU.

PyTorch is optional (`pip install 'seqlab[torch]'`). Nothing here imports it at module level: the command line
calls `require_torch()` first, which turns a missing PyTorch into one line and exit status 2, and only then
imports the submodules (`module`: the network and the weight mapping; `ptfile`: export and import of .pt
files).
"""

from __future__ import annotations

from seqlab.errors import UserError

INSTALL_HINT = "pip install 'seqlab[torch]'"


def require_torch(what: str = "--backend torch"):
    """The torch module, or a UserError saying how to install it."""
    try:
        import torch  # optional: see the module docstring
    except ImportError:
        raise UserError(f"{what} needs PyTorch, which is not installed: {INSTALL_HINT}") from None
    return torch


def resolve_device(name: str):
    """'cpu', 'cuda' or 'cuda:N' -> torch.device; UserError when it is malformed or not on this machine."""
    torch = require_torch(f"--device {name}")
    text = str(name).strip().lower()
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "cuda") or (kind == "cpu" and index) or (index and not index.isdigit()):
        raise UserError(f"--device must be cpu, cuda or cuda:N, got {name!r}")
    if kind == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UserError(f"--device {name}: CUDA is not available here (PyTorch {torch.__version__}, "
                        f"no usable GPU); use --device cpu")
    n = torch.cuda.device_count()
    if index and int(index) >= n:
        raise UserError(f"--device {name}: this machine has {n} CUDA device(s), cuda:0 to cuda:{n - 1}")
    return torch.device(text)
