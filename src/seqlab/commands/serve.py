"""`seqlab serve`: the playground, a local web page to generate, listen, compare and train."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
from pathlib import Path

from seqlab.errors import UserError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve", help="open the playground: a local web page for names, poems, jazz and training",
        description="Serve the playground page and its API (FastAPI and uvicorn, the seqlab[app] extra) and "
                    "print its address. It listens on 127.0.0.1 only unless --host says otherwise; the page "
                    "has no authentication. Ctrl-C stops it.")
    p.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (%(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    p.add_argument("--models", metavar="DIR", help="folder of text models to offer, where trained ones are "
                                                   "saved too (default: the bundled models, and those "
                                                   "trained here in $SEQLAB_HOME/playground)")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.set_defaults(func=run)


def _listen(host: str, port: int):
    """A listening socket on (host, port), or UserError saying why not."""

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        why = "is in use; choose another with --port" if exc.errno == 98 else f"cannot be used ({exc.strerror})"
        raise UserError(f"port {port} on {host} {why}") from None
    sock.listen(128)
    return sock


def _server_class(uvicorn):
    """uvicorn.Server that stops on SIGINT/SIGTERM and then returns, without raising the signal again (uvicorn
    re-raises it after shutting down, which would end in a KeyboardInterrupt traceback)."""

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def run(args) -> int:
    import webbrowser  # only to open the page: it loads much of the standard library

    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be between 0 and 65535, got {args.port}")
    models = None
    if args.models is not None:
        models = Path(args.models)
        if not models.is_dir():
            raise UserError(f"--models {models}: no such folder")
    try:  # the app extra is optional: a missing package is one line, below
        import uvicorn

        from seqlab.app.server import create_app
    except ModuleNotFoundError as exc:
        raise UserError(f"the playground needs {exc.name}: pip install 'seqlab[app]'") from None

    sock = _listen(args.host, args.port)
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{port}/"
    if args.host not in LOCAL_HOSTS:
        sys.stderr.write(f"warning: listening on {args.host}: anyone who can reach this machine can use the page "
                         f"and train on it; the playground has no authentication\n")
    app = create_app(models)
    server = _server_class(uvicorn)(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3,
                                                   lifespan="on"))

    def announce():
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            print(f"seqlab playground at {url} (Ctrl-C stops it)", flush=True)
            if args.open:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("seqlab playground stopped", flush=True)
    return 0
