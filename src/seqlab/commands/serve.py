"""`seqlab serve`: the playground, a local web page to generate, listen, compare and train."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path

from seqlab.errors import UserError

TIMEOUT = 10.0            # seconds for a request's headers, and for each pause in its body
MAX_CONNECTIONS = 100     # open at once: the page uses a handful; each costs a file descriptor and memory
HOST_NAME = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.:_-]{1,253})$")
TOKEN = re.compile(r"^[A-Za-z0-9._~-]{8,200}$")     # it travels in a URL and a cookie as it is
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]*")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve", help="open the playground: a local web page for names, poems, jazz and training",
        description="Serve the playground page and its API (FastAPI and uvicorn, the seqlab[app] extra) and "
                    "print its address. It listens on 127.0.0.1 only unless --host says otherwise. It answers "
                    "only requests addressed to this machine's loopback names, the --host address and "
                    "--allow-host names, and refuses requests sent by other web sites; off loopback every "
                    "request needs a token, printed in the address. Ctrl-C stops it.")
    p.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (%(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s); any other than a "
                                                       "loopback address needs the token")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="answer requests addressed to this host name too, e.g. a name of this machine on the "
                        "network (repeatable); other names are refused (DNS rebinding)")
    p.add_argument("--token", metavar="TOKEN", help="the token requests must carry (default off loopback: "
                                                    "$SEQLAB_TOKEN, else a random one); on loopback, giving it "
                                                    "asks for it too")
    p.add_argument("--no-token", action="store_true", help="off loopback, let anyone who can reach this "
                                                           "machine use the page, without a token")
    p.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                   help="close a connection whose request headers take longer, or whose body pauses longer "
                        "(%(default)g)")
    p.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS, metavar="N",
                   help="connections open at once; more are answered 503 (%(default)s)")
    p.add_argument("--models", metavar="DIR", help="folder of text models to offer, where trained ones are "
                                                   "saved too (default: the bundled models, and those "
                                                   "trained here in $SEQLAB_HOME/playground)")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.set_defaults(func=run)


def _token(args, loopback: bool) -> str | None:
    """The token requests must carry, or None."""
    if args.no_token and args.token is not None:
        raise UserError("--token and --no-token contradict each other; give one")
    if args.token is not None:
        token = args.token
    elif loopback or args.no_token:
        return None
    else:
        token = os.environ.get("SEQLAB_TOKEN") or secrets.token_urlsafe(24)
    if not TOKEN.match(token):
        where = "--token" if args.token is not None else "$SEQLAB_TOKEN"
        odd = "" if TOKEN_CHARS.fullmatch(token) else ", some of them not among those"
        raise UserError(f"{where} must be 8 to 200 letters, digits, '-', '_', '.' or '~', got {len(token)} "
                        f"characters{odd}")
    return token


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
    if not 0.1 <= args.timeout <= 3600:
        raise UserError(f"--timeout must be between 0.1 and 3600 seconds, got {args.timeout:g}")
    if not 1 <= args.max_connections <= 10000:
        raise UserError(f"--max-connections must be between 1 and 10000, got {args.max_connections}")
    models = None
    if args.models is not None:
        models = Path(args.models)
        if not models.is_dir():
            raise UserError(f"--models {models}: no such folder")
    try:  # the app extra is optional: a missing package is one line, below
        import uvicorn

        from seqlab.app import connections
        from seqlab.app.doors import WILDCARDS, Doors, is_loopback
        from seqlab.app.server import create_app
    except ModuleNotFoundError as exc:
        raise UserError(f"the playground needs {exc.name}: pip install 'seqlab[app]'") from None

    for name in args.allow_host:
        if not HOST_NAME.match(name):
            raise UserError(f"--allow-host takes a host name or address (like mybox.local), got {name!r}")
    loopback = is_loopback(args.host)
    token = _token(args, loopback)
    sock = _listen(args.host, args.port)
    port = sock.getsockname()[1]
    bare = args.host.strip("[]")
    every = bare.lower() in WILDCARDS      # 0.0.0.0 or ::, not an address to open (Chrome refuses 0.0.0.0)
    shown = ("[::1]" if ":" in bare else "127.0.0.1") if every else f"[{bare}]" if ":" in bare else bare
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    elsewhere = "; from another machine, its name or address in place of the loopback one" if every else ""
    if not loopback and token is None:
        sys.stderr.write(f"warning: listening on {args.host}: anyone who can reach this machine can use the page "
                         f"and train on it; the playground has no authentication (--no-token)\n")
    app = create_app(models, Doors.listening_on(args.host, args.allow_host, token))
    server = _server_class(uvicorn)(connections.config(app, args.timeout, args.max_connections,
                                                       timeout_graceful_shutdown=3, lifespan="on"))

    def announce():
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            print(f"seqlab playground at {url} (Ctrl-C stops it{elsewhere})", flush=True)
            if args.open:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("seqlab playground stopped", flush=True)
    return 0
