"""The playground's web server: the page (plain HTML, CSS and JavaScript from `static/`, nothing from the
network) and the JSON/SSE API behind its panels.

`create_app(models_dir)` builds the FastAPI application; `seqlab serve` runs it with uvicorn. Without
`models_dir` the models are the bundled ones plus those trained here, kept in $SEQLAB_HOME/playground; with it,
every text model in that folder, and new ones are written there.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match
from threadpoolctl import threadpool_limits

from seqlab import __version__
from seqlab.app import errors, jazz_routes, text_routes, train_routes
from seqlab.app.doors import DoorCheck, Doors
from seqlab.app.jobs import Trainer
from seqlab.app.store import ModelStore
from seqlab.data import cache_dir
from seqlab.text.model import BUNDLED_DIR

STATIC = Path(__file__).resolve().parent / "static"
CATCH_ALL = "/api/{rest:path}"        # answers what no other API route does: 404, or 405 with the methods
MAX_BODY = 256 * 1024                 # bytes of a JSON request
MAX_UPLOAD_BODY = 5 * 1024 * 1024 + 64 * 1024   # bytes of an upload request (the file and the form)


class BodyLimit:
    """ASGI middleware: a request body larger than its route's limit gets 422 before it is read."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            return await self.app(scope, receive, send)
        limit = MAX_UPLOAD_BODY if scope["path"] == "/api/train" else MAX_BODY
        length = dict(scope["headers"]).get(b"content-length")
        field = "file" if scope["path"] == "/api/train" else None
        too_large = errors.error_response([(field, "file must be at most 5 MB" if field
                                            else f"the request must be at most {limit:,} bytes")])
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                return await too_large(scope, receive, send)
            return await self.app(scope, receive, send)
        # No length given (a chunked body): read it here, up to the limit, and hand the route what was read.
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > limit:
                return await too_large(scope, receive, send)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)


class HeadAsGet:
    """ASGI middleware: HEAD is answered as GET without the body (RFC 9110), on every GET route."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return None
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        return await self.app({**scope, "method": "GET"}, receive, headers_only)


def allowed_methods(app: FastAPI, scope) -> list[str]:
    """The methods that another of the app's routes takes at this request's path (the catch-all excluded)."""
    found = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in app.router.routes
               if getattr(route, "path", None) != CATCH_ALL):
            found.append(method)
    return found


def default_store(models_dir: Path | None) -> ModelStore:
    if models_dir is not None:
        return ModelStore([models_dir], models_dir)
    own = cache_dir() / "playground"
    return ModelStore([BUNDLED_DIR, own], own)


def create_app(models_dir: str | Path | None = None, doors: Doors | None = None) -> FastAPI:
    """The playground's application; `doors` says who may use it (default: this machine's loopback only,
    no token; see seqlab.app.doors)."""
    store = default_store(None if models_dir is None else Path(models_dir))
    store.writable.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # One BLAS thread while serving: the requests and the training job are the parallelism, and BLAS
        # threads competing with them (and with each other) spin instead of computing; a QR of a 128 x 128
        # matrix, say, takes seconds instead of milliseconds on a busy 2-core machine.
        blas = threadpool_limits(limits=1, user_api="blas")
        try:
            yield
        finally:
            app.state.closing.set()
            trainer.shutdown()
            app.state.solos.close()
            blas.restore_original_limits()

    app = FastAPI(title="seqlab playground", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    app.state.store, app.state.trainer = store, trainer
    app.state.closing = threading.Event()
    app.state.compute = threading.Lock()   # sampling requests take turns (see text_routes)
    app.state.stats = {"poems_streaming": 0, "poem_chars": 0}
    app.state.solos = jazz_routes.Solos()
    errors.install(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(HeadAsGet)
    app.add_middleware(DoorCheck, doors=doors or Doors())    # added last: the outermost, before all the rest
    for module in (text_routes, jazz_routes, train_routes):
        app.include_router(module.router)

    @app.get("/api/status")
    def status() -> dict:
        return {"version": __version__, "models": store.names(), **app.state.stats,
                "training": trainer.running}

    @app.api_route(CATCH_ALL, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    def unknown(rest: str, request: Request):
        path = f"/api/{rest}"
        methods = allowed_methods(app, request.scope)
        if methods:    # the endpoint is there, for another method
            answer = errors.error_response([(None, f"{path} takes {' or '.join(methods)}, not {request.method}")],
                                           status=405)
            answer.headers["Allow"] = ", ".join(methods)
            return answer
        return errors.error_response([(None, f"no such API endpoint: {path}")], status=404)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
