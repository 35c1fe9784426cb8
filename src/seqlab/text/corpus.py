"""Reading a corpus file, with one clear error for each way it can be unusable."""

from __future__ import annotations

import os
from pathlib import Path

from seqlab.data import sha256_file
from seqlab.errors import UserError
from seqlab.fileio import check_input_file

MAX_BYTES = 128 << 20   # a larger corpus is refused before reading (its ids alone would take 8 bytes a char)


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes (recorded in checkpoints as the data checksum)."""

    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: no such file")
    return sha256_file(p)


def read_text(path: str | os.PathLike) -> str:
    """The file's text, decoded as UTF-8 (a leading byte-order mark is dropped).

    Missing, a directory, empty, binary (has NUL bytes) or not UTF-8 -> UserError.
    """
    p = check_input_file(path, "a UTF-8 text file", "a text file", MAX_BYTES)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if not raw:
        raise UserError(f"{p} is empty; expected a UTF-8 text file")
    if b"\0" in raw:
        raise UserError(f"{p} looks binary (has NUL bytes); expected a UTF-8 text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{p} is not UTF-8 (invalid byte at offset {exc.start}); "
                        f"expected a UTF-8 text file") from None
    if not text.strip():
        raise UserError(f"{p} has only whitespace; expected some text")
    return text


def check_distinct(text: str, source: str = "corpus") -> None:
    """UserError unless the text has at least two distinct characters besides line breaks: with one (say a
    file of 'aaaa' lines) there is nothing to learn but line lengths."""
    distinct = set(text) - {"\n", "\r"}
    if len(distinct) < 2:
        shown = f" ({next(iter(distinct))!r})" if distinct else ""
        raise UserError(f"{source} has {len(distinct)} distinct character(s) besides line breaks{shown}; "
                        f"expected at least 2 to learn from")


def lines_corpus(text: str, source: str = "corpus") -> list[str]:
    """The non-empty lines of `text`, stripped of surrounding whitespace (one example each)."""
    lines = [s for s in (line.strip() for line in text.splitlines()) if s]
    if not lines:
        raise UserError(f"{source} has no non-empty lines")
    check_distinct("\n".join(lines), source)
    return lines
