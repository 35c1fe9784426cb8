"""The playground under load and misuse (issue 35, items 1-8), against a real uvicorn on 127.0.0.1: bounded loads
(a few dozen connections, a few seconds), each case one that the server used to get wrong."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from app_helpers import LOCAL, NAMES_TEXT, models_folder, served, wait_for
from seqlab.app.errors import Busy
from seqlab.app.jobs import Job

SRC = Path(__file__).resolve().parent.parent / "src"


server = pytest.fixture(scope="module", name="server")(served)


@pytest.fixture(scope="module")
def client(server):
    return TestClient(server[0], base_url=LOCAL, raise_server_exceptions=False)


def shaped(r, status: int, field=None) -> str:
    """A refusal in the one error shape (detail, and the errors list naming `field`); returns its message."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["errors"] and body["detail"] == body["errors"][0]["message"], body
    assert field in [e["field"] for e in body["errors"]], body
    assert "\n" not in body["detail"] and "Traceback" not in r.text
    return body["detail"]


def _request(port: int, head: str, body: bytes = b"") -> socket.socket:
    """A connection to the server that has sent `head` (and `body`) and nothing more."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(head.encode() + body)
    return s


def _read_to_end(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """What the server sends until it closes the connection (socket.timeout if it does not within `timeout`)."""
    sock.settimeout(timeout)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    return data


# --- 1. an abandoned beam search --------------------------------------------------------------------------
def test_a_beam_search_its_client_abandons_stops_and_frees_the_compute_lock(server):
    # three clients asked for a 5,000-character beam of 8 and hung up: the searches ran on (each ~30 s here)
    # and held the compute lock, so a names request waited for all of them
    app, url = server
    port = int(url.rsplit(":", 1)[1])
    body = b'{"length": 5000, "beam": 8}'
    head = (f"POST /api/poem HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    clients = [_request(port, head, body) for _ in range(3)]
    for c in clients:
        assert b"200 OK" in c.recv(100)           # the stream has started: its search is running
        c.close()
    start = time.perf_counter()
    r = httpx2.post(url + "/api/names", json={"n": 3, "seed": 0}, timeout=10)
    took = time.perf_counter() - start
    assert r.status_code == 200 and took < 3.0, took
    wait_for(lambda: not app.state.compute.locked(), timeout=3)


# --- 2. a newline in a lines model's prompt ------------------------------------------------------------------
@pytest.mark.parametrize("extra", [{}, {"beam": 2}])
def test_a_line_end_in_a_lines_models_prompt_is_a_422_before_the_stream(client, extra):
    # it answered 200 with an empty, cut stream and two tracebacks in the log
    r = client.post("/api/poem", json={"model": "dinos", "prompt": "abc\n", "length": 20, **extra})
    assert "line end" in shaped(r, 422, "prompt")
    ok = client.post("/api/poem", json={"model": "shakespeare", "prompt": "when\nI", "length": 20, **extra})
    assert ok.status_code == 200 and "event: done" in ok.text        # a stream model takes line ends


# --- 3. watchers of training ---------------------------------------------------------------------------------
def test_eighty_watchers_of_a_training_job_hold_no_worker_threads(server):
    # each event stream held a worker thread while it waited: with 80 of them /api/status took a second
    app, url = server
    port = int(url.rsplit(":", 1)[1])
    trainer = app.state.trainer
    job = Job("watched", "watched", "w.txt", {"steps": 100, "mode": "lines", "hidden": 8})  # running, silent
    trainer.job = job
    head = f"GET /api/train/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    watchers = []
    try:
        for _ in range(80):
            watchers.append(_request(port, head))
        for w in watchers:
            assert b"200 OK" in w.recv(200)
        time.sleep(0.6)        # the waits (0.5 s each) come round again
        times = []
        for _ in range(3):
            start = time.perf_counter()
            assert httpx2.get(url + "/api/status", timeout=10).status_code == 200
            times.append(time.perf_counter() - start)
        assert min(times) < 0.25, times
    finally:
        with trainer._lock:
            job.status = "cancelled"
            job.events.append({"type": "cancelled", "step": 0})
            trainer._wake()
        for w in watchers:
            w.close()
        trainer.job = None


# --- 4. chords per measure -------------------------------------------------------------------------------------
def test_jazz_bounds_the_chords_in_a_measure(client):
    # 2,499 chords in one measure took 9.4 s: the cost follows chords, not only measures
    start = time.perf_counter()
    r = client.post("/api/jazz", json={"chords": "C " * 2499})
    assert "measure 1 holds 2,499 chords; at most 8" in shaped(r, 422, "chords")
    r = client.post("/api/jazz", json={"chords": "Dm7 G7 | " + "C " * 9 + "| F7"})
    assert "measure 2 holds 9 chords" in shaped(r, 422, "chords")
    assert time.perf_counter() - start < 2.0
    assert client.post("/api/jazz", json={"chords": "C Dm Em F G Am Bdim C"}).status_code == 200   # 8: fine


# --- 5. one error shape --------------------------------------------------------------------------------------
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("content,words", [
    ("[" * 100_000, "nested too deeply"), ('{"n": 1' + "1" * 5000 + "}", "4,300 digits"),
    (b"\xff\xfe{}", "not valid JSON"), ("{", "not valid JSON"),
])
def test_a_json_body_that_cannot_be_parsed_gets_the_documented_shape(client, content, words):
    # answered 400 {"detail": "There was an error parsing the body"}, without the errors list
    assert words in shaped(client.post("/api/names", content=content, headers=JSON), 422)


@pytest.mark.parametrize("files,data,headers,field,words", [
    ({"file": ("x" * 5000 + ".txt", NAMES_TEXT)}, None, None, None, "invalid multipart"),
    ([("file", ("a.txt", NAMES_TEXT)), ("file", ("b.txt", NAMES_TEXT))], None, None, "file", "too many files"),
    ({"file": ("a.txt", NAMES_TEXT)}, {f"f{i}": "1" for i in range(20)}, None, None, "too many fields"),
    (None, None, {"content-type": "multipart/form-data"}, None, "missing boundary"),
])
def test_a_form_that_cannot_be_parsed_gets_the_documented_shape(client, files, data, headers, field, words):
    before = client.app.state.trainer.job
    r = client.post("/api/train", files=files, data=data, headers=headers,
                    content=b"--x\r\n" if headers else None)
    assert words in shaped(r, 422, field)
    assert client.app.state.trainer.job is before                          # nothing started


def test_not_found_and_wrong_methods_have_the_shape_too(client):
    assert "no such file" in shaped(client.get("/static/nothing.js"), 404)
    assert "no such API endpoint" in shaped(client.get("/api/nothing"), 404)
    assert "takes POST" in shaped(client.get("/api/names"), 405)


# --- 6. cancel -----------------------------------------------------------------------------------------------
def test_cancel_answers_once_the_job_has_stopped_and_a_new_one_starts_at_once(client):
    # cancel answered "running" and a start right after it got 409 "already running"
    files = {"file": ("long.txt", NAMES_TEXT * 20)}
    r = client.post("/api/train", data={"steps": "20000", "hidden": "64"}, files=files)
    assert r.status_code == 202, r.text
    wait_for(lambda: client.get("/api/train").json()["job"]["step"] > 0, timeout=30)
    cancelled = client.post("/api/train/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["job"]["status"] == "cancelled"
    again = client.post("/api/train", data={"steps": "20000", "hidden": "8"}, files=files)
    assert again.status_code == 202, again.text
    assert client.post("/api/train/cancel").json()["job"]["status"] == "cancelled"


def test_a_start_while_a_job_is_still_being_cancelled_says_to_retry(client):
    trainer = client.app.state.trainer
    job = Job("slow", "slow", "s.txt", {"steps": 100, "mode": "lines", "hidden": 8})
    job.cancel.request("cancelled from the page")
    before, trainer.job = trainer.job, job
    try:
        with pytest.raises(Busy, match="still being cancelled; retry in a moment"):
            trainer.check_free()
    finally:
        trainer.job = before


# --- 7. a half-sent upload -------------------------------------------------------------------------------------
def test_a_client_that_drops_a_half_sent_request_is_one_info_line(server, caplog):
    # each such connection logged two full tracebacks (ClientDisconnect, "Exception in ASGI application")
    _, url = server
    port = int(url.rsplit(":", 1)[1])
    caplog.set_level(logging.INFO)
    before = httpx2.get(url + "/api/train").json()["job"]
    boundary = "b0undary"
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + NAMES_TEXT.encode()
    upload = (f"POST /api/train HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 100000\r\n"
              f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n")
    names = (f"POST /api/names HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n"
             f"Content-Type: application/json\r\n\r\n")
    for head, body in [(upload, part)] * 4 + [(names, b'{"n": 3, ')] * 2:
        c = _request(port, head, body)
        time.sleep(0.1)
        c.close()
    gone = lambda: [r for r in caplog.records if "went away" in r.getMessage()]   # noqa: E731
    wait_for(lambda: len(gone()) == 6, timeout=10)
    time.sleep(0.3)
    assert len(gone()) == 6 and all(r.levelno == logging.INFO for r in gone())
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not loud, [r.getMessage() for r in loud]
    assert httpx2.get(url + "/api/train").json()["job"] == before        # no upload went through


# --- 8. timeouts and a connection limit ---------------------------------------------------------------------
def test_slow_and_idle_connections_are_closed_and_the_number_of_connections_is_bounded(tmp_path):
    # 80 connections (idle, partial headers, partial bodies) were all still open after 10 s
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-m", "seqlab", "serve", "--port", "0", "--timeout", "1",
                             "--max-connections", "12", "--models", str(models_folder(tmp_path / "m"))],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r"127\.0\.0\.1:(\d+)/", proc.stdout.readline()).group(1))
        host = f"Host: 127.0.0.1:{port}\r\n"
        stalled = [_request(port, "") for _ in range(4)]                                       # idle
        stalled += [_request(port, f"GET /api/status HTTP/1.1\r\n{host}") for _ in range(4)]   # half a head
        stalled += [_request(port, f"POST /api/names HTTP/1.1\r\n{host}Content-Type: application/json\r\n"
                                   f"Content-Length: 500\r\n\r\n", b'{"n": ') for _ in range(4)]   # half a body
        time.sleep(0.2)
        over = _request(port, f"GET /api/status HTTP/1.1\r\n{host}\r\n")     # the 13th connection
        answer = over.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 503") and "application/json" in answer
        assert '"errors"' in answer and "12 connections" in answer
        start = time.perf_counter()
        # every one is closed by the server about a second (--timeout 1) after it stalled, without an answer
        assert [_read_to_end(c) for c in stalled] == [b""] * len(stalled)
        assert time.perf_counter() - start < 3.0
        r = httpx2.get(f"http://127.0.0.1:{port}/api/status", timeout=10)
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        proc.kill()
    assert "Traceback" not in err
