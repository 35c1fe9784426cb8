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

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from threadpoolctl import threadpool_limits

from seqlab import __version__
from seqlab.app import errors, jazz_routes, text_routes, train_routes
from seqlab.app.jobs import Trainer
from seqlab.app.store import ModelStore
from seqlab.data import cache_dir
from seqlab.text.model import BUNDLED_DIR

STATIC = Path(__file__).resolve().parent / "static"
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
        if length is not None and (not length.isdigit() or int(length) > limit):
            field = "file" if scope["path"] == "/api/train" else None
            what = "file must be at most 5 MB" if field else f"the request must be at most {limit:,} bytes"
            return await errors.error_response([(field, what)])(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise errors.FieldError(None, f"the request must be at most {limit:,} bytes")
            return message

        return await self.app(scope, counted, send)


def default_store(models_dir: Path | None) -> ModelStore:
    if models_dir is not None:
        return ModelStore([models_dir], models_dir)
    own = cache_dir() / "playground"
    return ModelStore([BUNDLED_DIR, own], own)


def create_app(models_dir: str | Path | None = None) -> FastAPI:
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
    for module in (text_routes, jazz_routes, train_routes):
        app.include_router(module.router)

    @app.get("/api/status")
    def status() -> dict:
        return {"version": __version__, "models": store.names(), **app.state.stats,
                "training": trainer.running}

    @app.get("/api/{rest:path}")
    def unknown(rest: str):
        return JSONResponse({"detail": f"no such API endpoint: /api/{rest}"}, status_code=404)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
