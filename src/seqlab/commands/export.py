"""`seqlab export`: a text model as a PyTorch .pt file (a plain state_dict and its configuration)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from seqlab.fileio import check_output_file
from seqlab.torch_backend import require_torch

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="write a text model as a PyTorch .pt file",
        description="Write MODEL's weights as a plain PyTorch state_dict of seqlab.torch_backend.module."
                    "TorchCharModel, with its configuration, vocabulary and mode, in one .pt file (read it "
                    "with torch.load(FILE, weights_only=True)). The file is read back and checked: the "
                    "weights map back to MODEL's bit for bit and both networks give the same "
                    "log-probabilities. Needs PyTorch.")
    p.add_argument("model", metavar="MODEL", help="checkpoint file or bundled model name (e.g. dinos)")
    p.add_argument("--torch", required=True, metavar="FILE.pt", help="the .pt file to write")
    p.set_defaults(func=run)


def run(args) -> int:
    from seqlab.commands.sample import load_text_model

    require_torch("seqlab export --torch")
    from seqlab.torch_backend.ptfile import export_pt

    out = Path(args.torch)
    check_output_file(out, "--torch", "model.pt", reads=(args.model,), replaceable=zipfile.is_zipfile,
                      kind="a PyTorch file")
    lm = load_text_model(args.model)   # says so when a file here shadows a bundled name
    result = export_pt(lm, out)
    print(f"wrote {result['path']}: {lm.model.num_params:,} parameters; read back: weights bit-identical, "
          f"log-probabilities within {result['max_gap']:.1e}")
    return 0
