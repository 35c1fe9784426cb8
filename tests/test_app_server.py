"""The playground on a real uvicorn server: simultaneous requests, an abandoned poem, and `seqlab serve` as a
real process stopped by a real Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from app_helpers import NAMES_TEXT, models_folder, parse_sse, served, wait_for

SRC = Path(__file__).resolve().parent.parent / "src"


server = pytest.fixture(scope="module", name="server")(served)


def test_ten_simultaneous_generate_requests_all_succeed_with_the_sequential_answers(server):
    _, url = server
    names = [{"n": 8, "seed": k, "temperature": 0.8} for k in range(5)]
    poems = [{"prompt": "my love is as a fever", "length": 60, "seed": k} for k in range(5)]

    def ask(job):
        kind, body = job
        with httpx2.Client(base_url=url, timeout=60) as c:
            r = c.post(f"/api/{kind}", json=body)
            assert r.status_code == 200, r.text
            return r.json()["names"] if kind == "names" else "".join(
                d["text"] for e, d in parse_sse(r.text) if e == "message")

    jobs = [("names", b) for b in names] + [("poem", b) for b in poems]
    with ThreadPoolExecutor(10) as pool:
        together = list(pool.map(ask, jobs))
    alone = [ask(j) for j in jobs]
    assert together == alone
    assert len({str(x) for x in together}) == 10      # different seeds, different answers


def test_a_poem_the_client_abandons_stops_being_sampled(server):
    app, url = server
    stats = app.state.stats
    before = stats["poem_chars"]
    with httpx2.Client(base_url=url, timeout=60) as c:
        with c.stream("POST", "/api/poem", json={"prompt": "when", "length": 5000, "seed": 0}) as r:
            assert r.status_code == 200
            got = ""
            for chunk in r.iter_text():
                got += chunk
                if got.count("data: ") >= 3:     # the start event and two pieces of the poem
                    break
            assert stats["poems_streaming"] == 1
    # the connection is closed: the server notices, stops sampling and forgets the stream
    wait_for(lambda: stats["poems_streaming"] == 0, timeout=10)
    sampled = stats["poem_chars"] - before
    time.sleep(0.5)
    assert stats["poem_chars"] - before == sampled     # nothing more is sampled
    assert sampled < 2500, sampled                      # far less than the 5,000 asked for


def _serve(*args, env=None):
    env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "seqlab", "serve", "--port", "0", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_prints_its_address_warns_off_localhost_opens_the_browser_and_ctrl_c_stops_it_mid_training(
        tmp_path):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    folder = models_folder(tmp_path / "models")
    proc = _serve("--host", "0.0.0.0", "--no-token", "--models", str(folder), "--open", env={"BROWSER": str(browser)})
    try:
        line = proc.stdout.readline()
        # every address is not one to open (Chrome refuses 0.0.0.0): the loopback one is printed and opened
        m = re.search(r"seqlab playground at (http://127\.0\.0\.1:(\d+)/) .*from another machine", line)
        if m is None:
            proc.kill()                                    # else reading its stderr waits for ever
            pytest.fail(line + proc.stderr.read())
        port = int(m.group(2))
        r = httpx2.get(f"http://127.0.0.1:{port}/api/models", timeout=30)
        assert [x["name"] for x in r.json()["models"]] == ["dinos", "shakespeare"]
        assert wait_for(lambda: opened.exists() and opened.read_text().strip()) == m.group(1)
        before = sorted(p.name for p in folder.glob("*.npz"))
        job = httpx2.post(f"http://127.0.0.1:{port}/api/train", data={"steps": "20000", "hidden": "64"},
                          files={"file": ("long.txt", NAMES_TEXT * 50)}, timeout=30)
        assert job.status_code == 202, job.text
        wait_for(lambda: httpx2.get(f"http://127.0.0.1:{port}/api/train").json()["job"]["step"] > 0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)            # the job is cancelled, not waited for
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "no authentication" in err and "Traceback" not in err
    assert sorted(p.name for p in folder.glob("*.npz")) == before


def test_serve_on_localhost_has_no_warning_and_bad_options_are_one_line(tmp_path):
    proc = _serve("--models", str(models_folder(tmp_path / "m")))
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        assert httpx2.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
        busy = subprocess.run([sys.executable, "-m", "seqlab", "serve", "--port", str(port)], capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
        assert busy.returncode == 2 and f"port {port}" in busy.stderr and "in use" in busy.stderr
        assert len(busy.stderr.strip().splitlines()) == 1
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0 and err == ""
    for args, words in ((["--models", str(tmp_path / "none")], "no such folder"), (["--port", "70000"], "65535")):
        r = subprocess.run([sys.executable, "-m", "seqlab", "serve", *args], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1
