"""Helpers shared by the playground's tests: a models folder, a real uvicorn server in a thread, SSE parsing."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import uvicorn

from seqlab.app import connections
from seqlab.app.server import create_app
from seqlab.text.model import BUNDLED_DIR

LOCAL = "http://127.0.0.1"    # a TestClient's base URL: its default Host, "testserver", is refused (DNS rebinding)

NAMES_TEXT = "\n".join(["tyrannosaurus", "stegosaurus", "triceratops", "velociraptor", "brachiosaurus",
                        "allosaurus", "diplodocus", "iguanodon", "spinosaurus", "ankylosaurus"] * 3) + "\n"


def models_folder(path: Path) -> Path:
    """A models folder holding copies of the bundled models (the jazz one too: it must not be listed)."""
    path.mkdir(parents=True, exist_ok=True)
    for name in ("dinos", "shakespeare", "jazz"):
        shutil.copy(BUNDLED_DIR / f"{name}.npz", path / f"{name}.npz")
    return path


def parse_sse(text: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a server-sent-event stream."""
    out = []
    for block in text.split("\n\n"):
        event, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if data:
            out.append((event, json.loads(data)))
    return out


@contextlib.contextmanager
def live_server(app, timeout: float = 10.0, max_connections: int = 100):
    """Run `app` with uvicorn on 127.0.0.1 (a free port) in a thread, configured as `seqlab serve` does (the
    connections' timeout and limit); yields the base URL."""

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(connections.config(app, timeout, max_connections, timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def served(tmp_path_factory):
    """(app, base URL) of a live playground on a models folder of its own: a module's fixture, as
    `server = pytest.fixture(scope="module", name="server")(served)`."""
    app = create_app(models_folder(tmp_path_factory.mktemp("models")))
    with live_server(app) as url:
        yield app, url


def wait_for(predicate, timeout: float = 30.0, every: float = 0.05):
    """Poll until predicate() is truthy; returns its value (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(every)
