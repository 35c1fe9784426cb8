"""`seqlab import-torch`: a PyTorch .pt file back into an ordinary seqlab checkpoint."""

from __future__ import annotations

from pathlib import Path

from seqlab.errors import UserError
from seqlab.torch_backend import require_torch

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import-torch", help="turn a PyTorch .pt file into a seqlab checkpoint",
        description="Read FILE.pt, written by `seqlab export --torch` or a bare state_dict of "
                    "seqlab.torch_backend.module.TorchCharModel trained elsewhere (then --vocab is needed), "
                    "and write an ordinary seqlab checkpoint that every command reads. Checked: the written "
                    "checkpoint's network and the file's give the same log-probabilities. Needs PyTorch.")
    p.add_argument("file", metavar="FILE.pt", help="the .pt file to read")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="checkpoint file to write (.npz)")
    p.add_argument("--vocab", metavar="CORPUS", help="bare state_dict only: the text it was trained on, a file "
                                                     "or a dataset name (its characters, plus '\\n', are the "
                                                     "vocabulary)")
    p.add_argument("--mode", choices=["lines", "stream"], help="bare state_dict only (default: lines)")
    p.add_argument("--keep-case", action="store_true", default=None,
                   help="bare state_dict only: the text was not lower-cased")
    p.set_defaults(func=run)


def run(args) -> int:
    from seqlab.checkpoint import is_checkpoint, load_checkpoint
    from seqlab.fileio import check_output_file
    from seqlab.text.model import START, LanguageModel
    from seqlab.text.vocab import Vocabulary, normalize

    require_torch("seqlab import-torch")
    from seqlab.torch_backend.ptfile import load_pt

    out = Path(args.output)
    check_output_file(out, "-o", "model.npz", reads=(args.file, args.vocab), replaceable=is_checkpoint,
                      kind="a seqlab checkpoint")
    vocab = None
    if args.vocab:
        from seqlab.data import resolve_corpus
        from seqlab.text.corpus import read_text

        vocab = Vocabulary.from_text(normalize(read_text(resolve_corpus(args.vocab, suffix=".txt")),
                                               lower=not args.keep_case) + START)
    lm = load_pt(args.file, vocab, lower=None if args.keep_case is None else False, mode=args.mode)
    lm.save(out, extra_meta={"source": {"imported_from": str(args.file)}})
    back = LanguageModel.from_checkpoint(*load_checkpoint(out), source=str(out))
    arrays, again = lm.model.arrays(), back.model.arrays()
    if any(arrays[k].tobytes() != again[k].tobytes() for k in arrays):  # pragma: no cover - a guard
        raise UserError(f"{out}: reading the written checkpoint back does not give the same weights")
    print(f"wrote {out}: {lm.model.config()['cell']} {lm.model.num_layers}x{lm.model.hidden}, "
          f"{lm.model.num_params:,} parameters, vocabulary {lm.vocab.size}, {lm.mode} mode")
    return 0
