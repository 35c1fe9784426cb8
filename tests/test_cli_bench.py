"""`seqlab bench`: the JSON contract and bad options (no timing is asserted: that belongs to benchmarks)."""

from __future__ import annotations

import json
import re

from seqlab import bench
from seqlab.cli import main


def test_bench_json_holds_only_the_result_list(capsys):
    assert main(["bench", "--json", "-T", "3", "-B", "2", "-D", "3", "-H", "4", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert [r["cell"] for r in rows] == ["lstm", "gru", "rnn"]
    for r in rows:
        assert set(r) == {"cell", "shape", "seqlab_ms", "torch_ms", "ratio"}
        assert r["shape"] == {"name": None, "T": 3, "B": 2, "D": 3, "H": 4}
        assert r["seqlab_ms"] > 0 and r["torch_ms"] > 0
        assert abs(r["ratio"] - r["seqlab_ms"] / r["torch_ms"]) <= 0.02 * r["ratio"] + 1e-4


def test_bench_table_and_bad_cell(capsys):
    assert main(["bench", "--cells", "gru", "-T", "2", "-B", "1", "-D", "2", "-H", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio" in out and "gru" in out and "lstm" not in out.split("\n", 2)[2]
    assert main(["bench", "--cells", "transformer"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--cells must name lstm, gru or rnn" in err


def test_bench_app_shapes_run_the_three_applications(capsys, monkeypatch):
    """--shapes app times each application's shape in one go; the shape names and sizes are seqlab.bench's."""
    small = {"dinos": {"T": 2, "B": 3, "D": 2, "H": 3}, "jazz": {"T": 3, "B": 2, "D": 4, "H": 2},
             "poem": {"T": 4, "B": 1, "D": 2, "H": 5}}
    monkeypatch.setattr(bench, "APP_SHAPES", small)
    assert main(["bench", "--shapes", "app", "--json", "--cells", "lstm,rnn", "--repeats", "1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["shape"]["name"], r["cell"]) for r in rows] == [
        ("dinos", "lstm"), ("dinos", "rnn"), ("jazz", "lstm"), ("jazz", "rnn"), ("poem", "lstm"), ("poem", "rnn")]
    for r in rows:
        assert {k: r["shape"][k] for k in "TBDH"} == small[r["shape"]["name"]]
    assert main(["bench", "--shapes", "app", "--cells", "gru", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"(\w+): T=\d+ B=\d+ input=\d+ hidden=\d+", out) == ["dinos", "jazz", "poem"]


def test_several_threads_in_one_process_come_with_a_note_pointing_to_own_processes(capsys):
    small = ["-T", "2", "-B", "1", "-D", "2", "-H", "2", "--repeats", "1", "--cells", "rnn"]
    assert main(["bench", "--threads", "2", *small]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--processes 3" in err and "spin" in err
    assert main(["bench", "--threads", "1", *small]) == 0
    assert capsys.readouterr().err == ""


def test_processes_time_each_library_in_fresh_processes_of_its_own(capsys, monkeypatch):
    calls = []
    real = bench.own_process_ms

    def recorded(lib, *args):
        calls.append(lib)
        return real(lib, *args)
    monkeypatch.setattr(bench, "own_process_ms", recorded)
    assert main(["bench", "--processes", "2", "--threads", "2", "--json", "--cells", "rnn", "-T", "2", "-B", "1",
                 "-D", "2", "-H", "2", "--repeats", "1"]) == 0
    out, err = capsys.readouterr()
    (row,) = json.loads(out)
    assert row["cell"] == "rnn" and row["seqlab_ms"] > 0 and row["torch_ms"] > 0
    assert calls == ["seqlab", "torch", "torch", "seqlab"]     # alternating which goes first
    assert err == ""                                          # no note: this is the fair comparison
    assert main(["bench", "--processes", "-1"]) == 2
    assert "--processes must be at least 0, got -1" in capsys.readouterr().err
    assert main(["bench", "--processes", "2", "--device", "cuda"]) == 2
    assert "leave out --device" in capsys.readouterr().err
