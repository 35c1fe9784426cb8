"""Beam search (exhaustive on a model small enough to enumerate), top-p in generation, streaming (seen through a
real process: characters arrive before it ends), --prompt-file, the bad values of the new options, and `seqlab
eval` of a dataset name."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqlab.cli import main
from seqlab.text.model import CharModel, LanguageModel
from seqlab.text.sampling import beam_search, generate, stream
from seqlab.text.vocab import Vocabulary

SRC = str(Path(__file__).resolve().parent.parent / "src")


def _lm(chars="\nab", mode="stream", seed=0, hidden=6) -> LanguageModel:
    vocab = Vocabulary(chars)
    model = CharModel(vocab.size, "lstm", hidden=hidden, layers=2, rng=np.random.default_rng(seed))
    model.dense.params["W"] *= 6.0   # a peaked distribution, so that greedy and best paths can differ
    return LanguageModel(model, vocab, True, mode)


def _logp(lm: LanguageModel, prefix: str, text: str) -> float:
    """log P(text | '\\n' + prefix), from one pass over the whole sequence."""
    ids = lm.encode("\n" + prefix + text)
    lp, _ = lm.model.log_probs(ids[:-1, None])
    n = len(text)
    return float(lp[np.arange(len(ids) - 1), 0, ids[1:]][-n:].sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_wide_beam_finds_the_most_likely_continuation_of_all(seed):
    lm = _lm(seed=seed)
    L = 4
    every = {"".join(t): _logp(lm, "ab", "".join(t)) for t in itertools.product(lm.vocab.chars, repeat=L)}
    best = max(every, key=every.get)
    found = beam_search(lm, "ab", max_len=L, beam=3 ** (L - 1))
    assert found[0][0] == best
    assert found[0][1] == pytest.approx(every[best], abs=1e-6)  # float32 model
    greedy = generate(lm, 1, prefix="ab", max_len=L, top_k=1, seed=0)[0]
    assert beam_search(lm, "ab", max_len=L, beam=1)[0][0] == greedy
    narrow = beam_search(lm, "ab", max_len=L, beam=2)[0]
    assert every[greedy] - 1e-6 <= narrow[1] <= every[best] + 1e-6


def _blank_run(text: str) -> int:
    """The longest run of empty lines in text (n newlines in a row make n - 1)."""
    return max((len(run) for run in re.findall("\n+", text)), default=1) - 1


def test_a_beam_limited_to_one_empty_line_in_a_row_finds_the_likeliest_such_continuation():
    lm = _lm(seed=6)
    lm.model.dense.params["b"][lm.start_id] += 4.0        # newlines likely, as after a line of a sonnet
    L = 5
    free = beam_search(lm, "ab", max_len=L, beam=2)[0][0]
    assert _blank_run("\n" + "ab" + free) > 1              # the search without the rule: empty lines
    every = {"".join(t): _logp(lm, "ab", "".join(t)) for t in itertools.product(lm.vocab.chars, repeat=L)}
    allowed = {t: s for t, s in every.items() if _blank_run("\nab" + t) <= 1}
    best = max(allowed, key=allowed.get)
    found = beam_search(lm, "ab", max_len=L, beam=3 ** (L - 1), max_blank_lines=1)
    assert found[0][0] == best and found[0][1] == pytest.approx(allowed[best], abs=1e-6)
    assert len(found) == 3 ** (L - 1) and all(_blank_run("\nab" + t) <= 1 for t, _ in found)
    assert all(_blank_run("\na\n" + t) == 0 for t, _ in beam_search(lm, "a\n", 4, 3, max_blank_lines=0))


def test_beam_in_lines_mode_ends_at_the_end_of_a_line_and_is_deterministic():
    lm = _lm("\nabc", mode="lines", seed=3)
    found = beam_search(lm, "a", max_len=12, beam=4)
    assert found == beam_search(lm, "a", max_len=12, beam=4)
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True)
    for text, score in found:
        assert "\n" not in text[:-1] and (text.endswith("\n") or len(text) == 12)
        assert score == pytest.approx(_logp(lm, "a", text), abs=1e-6)  # float32 model


def test_top_p_small_is_the_greedy_path_and_stream_gives_generate_characters():
    lm = _lm("\nabcde", seed=4)
    assert generate(lm, 1, max_len=10, top_p=1e-6, seed=1) == generate(lm, 1, max_len=10, top_k=1, seed=9)
    sampled = generate(lm, 1, prefix="ba", max_len=30, top_p=0.9, temperature=0.8, seed=5)[0]
    assert "".join(stream(lm, prefix="ba", max_len=30, top_p=0.9, temperature=0.8, seed=5)) == sampled


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "tiny.npz"
    _lm("\n abcdefghij", seed=5, hidden=8).save(path)
    return path


def _run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_sample_streamed_and_not_print_the_same_text(model_file, capsys):
    args = ["sample", str(model_file), "-n", "3", "--max-len", "40", "--seed", "2", "--top-p", "0.9"]
    streamed, plain = _run(capsys, *args), _run(capsys, *args, "--no-stream")
    assert streamed == plain and plain[0] == 0 and len(plain[1].splitlines()) >= 3


def test_beam_and_prompt_file_from_the_command_line(model_file, capsys, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("ab cd\nef", encoding="utf-8")
    status, out, _ = _run(capsys, "sample", str(model_file), "--beam", "3", "--max-len", "20",
                          "--prompt-file", str(prompt))
    best = beam_search(LanguageModel.from_checkpoint(*_load(model_file)), "ab cd\nef", 20, 3)[0][0]
    assert status == 0 and out == "ab cd\nef" + best + "\n"
    assert _run(capsys, "sample", str(model_file), "--beam", "3", "--max-len", "20", "--prompt-file",
                str(prompt)) == (0, out, "")                          # the same every time
    assert _run(capsys, "sample", str(model_file), "--beam", "3", "--prompt-file", str(prompt), "--seed",
                "7")[0] == 2                                          # so a seed is refused, not ignored
    status, poem, _ = _run(capsys, "poem", "--model", str(model_file), "--prompt-file", str(prompt),
                           "--length", "30", "--beam", "2")
    assert status == 0 and poem.startswith("ab cd\nef") and poem.endswith("\n")
    assert len(poem) - len("ab cd\nef") >= 30


def _load(path):
    from seqlab.checkpoint import load_checkpoint

    return load_checkpoint(path)


@pytest.mark.parametrize("command", ["sample", "poem"])
@pytest.mark.parametrize("extra, word", [(["--top-p", "0"], "top-p"), (["--top-p", "1.5"], "top-p"),
                                         (["--beam", "0"], "--beam"), (["--prompt-file", "EMPTY"], "empty")])
def test_bad_values_are_one_line_and_exit_2(model_file, capsys, tmp_path, command, extra, word):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    extra = [str(tmp_path / "empty.txt") if a == "EMPTY" else a for a in extra]
    argv = ["sample", str(model_file)] if command == "sample" else ["poem", "--model", str(model_file)]
    if command == "poem" and "--prompt-file" not in extra:
        argv.append("ab")
    status, out, err = _run(capsys, *argv, *extra)
    assert status == 2 and out == "" and err.count("\n") == 1 and word in err, err


def test_characters_arrive_while_the_process_is_still_writing(model_file):
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    argv = [sys.executable, "-m", "seqlab", "sample", str(model_file), "-n", "1", "--max-len", "200000",
            "--seed", "0"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        first = proc.stdout.read(20)          # returns as soon as 20 bytes have come through the pipe
        running = proc.poll() is None         # 200,000 characters take far longer than the first 20
    finally:
        proc.kill()
        proc.wait()
    assert len(first) == 20 and running
    lm = LanguageModel.from_checkpoint(*_load(model_file))
    assert first.decode() == generate(lm, 1, max_len=20, seed=0)[0]


@pytest.mark.data
def test_eval_takes_a_dataset_name_for_the_file(capsys, tmp_path):
    from conftest import dataset_path

    path = dataset_path("dinos")
    vocab = Vocabulary(sorted(set(path.read_text(encoding="utf-8").lower())))
    model = CharModel(vocab.size, "lstm", hidden=8, rng=np.random.default_rng(0))
    LanguageModel(model, vocab, True, "lines").save(tmp_path / "d.npz")
    by_name = _run(capsys, "eval", str(tmp_path / "d.npz"), "dinos", "--json")
    assert by_name == _run(capsys, "eval", str(tmp_path / "d.npz"), str(path), "--json") and by_name[0] == 0
    assert '"chars": ' in by_name[1]
