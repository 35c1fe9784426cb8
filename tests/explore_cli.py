"""The explore tests' check of a refused command: exit status 2, nothing on stdout, one line on stderr."""

from __future__ import annotations

from seqlab.cli import main


def fails(capsys, argv, *words) -> str:
    """Run `seqlab ARGV`; assert it is refused with one stderr line that contains every one of `words`."""
    capsys.readouterr()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"seqlab explore {argv[1]}: error: "), err
    for w in words:
        assert w in err, err
    return err
