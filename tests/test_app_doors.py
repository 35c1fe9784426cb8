"""The playground's doors (issue 30, part 1), with real requests against a real uvicorn: only its own page and
plain API clients get in. Refused: a foreign Host (DNS rebinding), a cross-site Origin or Referer, a body that
is not JSON at a JSON endpoint, a missing or wrong token off loopback. Allowed: a client that sends no Origin
(curl), the page's own origin on 127.0.0.1 and on localhost, a name given with --allow-host, the token as a
query (which sets the cookie), as the cookie, or as a Bearer header."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from app_helpers import NAMES_TEXT, models_folder, served
from seqlab.app.doors import Doors
from seqlab.cli import main

SRC = Path(__file__).resolve().parent.parent / "src"
NAMES = {"model": "dinos", "n": 2, "seed": 1}


server = pytest.fixture(scope="module", name="server")(served)


def one_line_refusal(r, status: int, *words: str) -> str:
    """The refusal in the API's one error shape; returns its message."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["errors"] == [{"field": None, "message": body["detail"]}]
    message = body["detail"]
    assert "\n" not in message and "Traceback" not in r.text
    for w in words:
        assert w in message, message
    return message


def test_a_foreign_host_is_refused_everywhere_the_page_and_its_files_included(server):
    _, url = server
    for path in ("/", "/static/app.js", "/api/models", "/api/status"):
        r = httpx2.get(url + path, headers={"Host": "rebind.example.com"})
        message = one_line_refusal(r, 403, "'rebind.example.com'", "--allow-host rebind.example.com")
    assert "127.0.0.1" in message
    r = httpx2.post(url + "/api/names", json=NAMES, headers={"Host": "rebind.example.com:8000"})
    one_line_refusal(r, 403, "rebind.example.com")
    assert httpx2.get(url + "/").status_code == 200


@pytest.mark.parametrize("headers,words", [
    ({"Origin": "http://evil.example.com"}, "Origin: http://evil.example.com"),
    ({"Origin": "null"}, "Origin: null"),                          # a sandboxed frame, a file:// page
    ({"Referer": "http://evil.example.com/page.html"}, "Referer: http://evil.example.com"),   # no Origin
    ({"Origin": "https://127.0.0.1:{port}"}, "Origin"),           # another scheme: another origin
])
def test_a_cross_site_post_is_refused_and_computes_nothing(server, headers, words):
    app, url = server
    port = url.rsplit(":", 1)[1]
    headers = {k: v.format(port=port) for k, v in headers.items()}
    one_line_refusal(httpx2.post(url + "/api/names", json=NAMES, headers=headers), 403, words,
                     f"http://127.0.0.1:{port}")
    # the measured case: a form post that used to start a training job (202)
    r = httpx2.post(url + "/api/train", data={"steps": "10"}, files={"file": ("a.txt", NAMES_TEXT)},
                    headers=headers)
    one_line_refusal(r, 403, words)
    assert app.state.trainer.job is None and httpx2.get(url + "/api/status").json()["training"] is False
    # the event stream is guarded like a POST
    one_line_refusal(httpx2.get(url + "/api/train/events", headers=headers), 403, words)


def test_another_port_of_127_0_0_1_is_another_origin(server):
    _, url = server
    port = int(url.rsplit(":", 1)[1])
    other = f"http://127.0.0.1:{port + 1}"
    one_line_refusal(httpx2.post(url + "/api/names", json=NAMES, headers={"Origin": other}), 403, other)


def test_a_json_endpoint_takes_only_application_json(server):
    _, url = server
    body = b'{"model": "dinos", "n": 2}'
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        r = httpx2.post(url + "/api/names", content=body, headers={"Content-Type": kind})
        one_line_refusal(r, 415, "application/json", kind.split(";")[0])
    # a Blob without a type is sent without a Content-Type: refused too
    one_line_refusal(httpx2.post(url + "/api/names", content=body), 415, "no Content-Type")
    r = httpx2.post(url + "/api/names", content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200


def test_plain_clients_and_the_pages_own_origin_are_let_in(server):
    _, url = server
    port = url.rsplit(":", 1)[1]
    plain = httpx2.post(url + "/api/names", json=NAMES)                       # curl: no Origin, no Referer
    assert plain.status_code == 200
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        own = f"http://{host}"
        for headers in ({"Origin": own}, {"Referer": own + "/#names"}, {"Origin": own, "Referer": own + "/"}):
            r = httpx2.post(url + "/api/names", json=NAMES, headers={"Host": host, **headers})
            assert r.status_code == 200 and r.json() == plain.json(), (host, headers, r.text)
        assert httpx2.get(url + "/", headers={"Host": host}).status_code == 200
    # a POST without a body (curl -X POST) needs no Content-Type: it reaches the route
    r = httpx2.post(url + "/api/train/cancel", headers={"Origin": f"http://127.0.0.1:{port}"})
    assert r.status_code == 422 and r.json()["detail"] == "no training job is running"
    # a link from another site to the page (a GET with a foreign Referer) opens it
    assert httpx2.get(url + "/", headers={"Referer": "http://elsewhere.example/"}).status_code == 200


@pytest.mark.parametrize("host,allowed", [
    ("[::1]:8000", True), ("127.0.0.2", True), ("localhost.:8000", True), ("LOCALHOST:1", True),
    ("box.example", False), ("192.168.1.5:8000", False), ("127.0.0.1:notaport", False), ("", False),
])
def test_the_loopback_names_and_addresses_are_the_default_hosts(server, host, allowed):
    app, _ = server
    r = TestClient(app).get("/api/status", headers={"Host": host})
    assert (r.status_code == 200) is allowed, (host, r.text)


def test_doors_of_a_server_on_every_address_let_in_ip_addresses_and_the_allowed_names_only():
    doors = Doors.listening_on("0.0.0.0", ["box.example", "Other.Example:8000"], token="x" * 10)
    assert all(doors.host_allowed(h) for h in ("192.168.1.5", "10.0.0.1", "::1", "0.0.0.0", "box.example",
                                               "other.example"))
    assert not any(doors.host_allowed(h) for h in ("rebind.example.com", "box.example.evil.com"))
    lan = Doors.listening_on("192.168.1.5")
    assert lan.host_allowed("192.168.1.5") and not lan.host_allowed("192.168.1.6")
    assert lan.token is None and not lan.any_address


def _serve(*args, env=None):
    env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "seqlab", "serve", "--port", "0", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=20)
    finally:
        proc.kill()


def test_off_loopback_every_request_needs_the_token(tmp_path):
    proc = _serve("--host", "0.0.0.0", "--models", str(models_folder(tmp_path / "m")))
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+) ", line)
        assert m, line
        port, token = m.group(1), m.group(2)
        assert len(token) >= 32                                        # secrets.token_urlsafe(24)
        base = f"http://127.0.0.1:{port}"
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Cookie": f"seqlab_token_{port}=wrong"}):
            for path in ("/", "/static/app.js", "/api/status"):
                r = httpx2.get(base + path, headers=headers)
                one_line_refusal(r, 401, "token", "Authorization: Bearer")
                assert r.headers["www-authenticate"] == "Bearer"
        one_line_refusal(httpx2.get(base + "/?token=wrong"), 401, "token")
        one_line_refusal(httpx2.post(base + "/api/names", json=NAMES), 401, "token")
        # the Bearer header
        ok = httpx2.post(base + "/api/names", json=NAMES, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        # the query, once: it sets an HttpOnly, SameSite=Strict cookie that is enough from then on
        page = httpx2.get(f"{base}/?token={token}")
        assert page.status_code == 200 and "seqlab playground" in page.text
        cookie = page.headers["set-cookie"]
        assert cookie.startswith(f"seqlab_token_{port}={token};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        with httpx2.Client(base_url=base, cookies={f"seqlab_token_{port}": token}) as c:
            assert c.get("/static/app.js").status_code == 200
            assert c.post("/api/names", json=NAMES).json() == ok.json()
            assert "set-cookie" not in c.get("/api/status").headers
        # the token does not open the other doors: a cross-site request is refused all the same
        r = httpx2.post(base + "/api/names", json=NAMES, headers={"Authorization": f"Bearer {token}",
                                                                  "Origin": "http://evil.example.com"})
        one_line_refusal(r, 403, "evil.example.com")
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 0 and "Traceback" not in err and "no authentication" not in err


def test_allow_host_names_a_host_and_seqlab_token_sets_the_token(tmp_path):
    proc = _serve("--host", "0.0.0.0", "--allow-host", "box.example", "--models", str(models_folder(tmp_path / "m")),
                  env={"SEQLAB_TOKEN": "my-own-token-1"})
    try:
        line = proc.stdout.readline()
        m = re.search(r":(\d+)/\?token=my-own-token-1 ", line)
        assert m, line
        base, auth = f"http://127.0.0.1:{m.group(1)}", {"Authorization": "Bearer my-own-token-1"}
        assert httpx2.get(base + "/api/status", headers={"Host": "box.example", **auth}).status_code == 200
        assert httpx2.get(base + "/api/status", headers={"Host": "192.168.1.5", **auth}).status_code == 200
        one_line_refusal(httpx2.get(base + "/api/status", headers={"Host": "other.example", **auth}), 403,
                         "other.example")
    finally:
        _stop(proc)


def test_token_options_that_cannot_work_are_one_line(capsys, monkeypatch):
    monkeypatch.delenv("SEQLAB_TOKEN", raising=False)
    for args, words in ((["--token", "abcdefgh1", "--no-token"], "contradict"),
                        (["--token", "abc"], "8 to 200 letters, digits, '-', '_', '.' or '~', got 3 characters\n"),
                        (["--token", "has space in it"], "got 15 characters, some of them not among those"),
                        (["--allow-host", "http://x.example/"], "host name")):
        assert main(["serve", *args]) == 2          # refused before anything listens
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
