"""How the playground answers bad requests: HTTP 422 with one readable line per field, never a traceback.

Every refusal, whatever its status (401, 403, 404, 405, 409, 415, 422, 503, 500), has the body
`{"detail": first message, "errors": [{"field": name or null, "message": line}]}`; the page shows each message
next to the field it names (or at the top of the panel when it names none). A body that cannot be parsed at all
(JSON or multipart) is a 422 too. A client that goes away mid-request is one info line in the log.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from seqlab.errors import UserError

log = logging.getLogger("seqlab.app")


class FieldError(UserError):
    """A UserError about one request field (`field` None: about the request as a whole)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


class Busy(Exception):
    """A second training job while one runs (HTTP 409)."""


LABELS = {"n": "how many", "top_k": "top-k", "top_p": "top-p", "max_len": "max length", "bpm": "tempo (bpm)",
          "hidden": "size"}


def _shown(value) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe(err: dict) -> tuple[str | None, str]:
    """(field, message) for one pydantic error dict."""
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
    field = loc[0] if loc else None
    label = LABELS.get(field, field.replace("_", " ")) if field else "the request"
    kind, ctx, value = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    got = f", got {_shown(value)}"
    bounds = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
              "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return field, f"{label} must be {words} {ctx.get(key)}{got}"
    if kind in ("string_too_long", "string_too_short"):
        words = "at most" if kind == "string_too_long" else "at least"
        size = ctx.get("max_length" if kind == "string_too_long" else "min_length")
        n = len(value) if isinstance(value, str) else "?"
        return field, f"{label} must be {words} {size:,} characters long, got {n:,}"
    if kind == "missing":
        return field, f"{label} is required"
    if kind.startswith("int_"):
        return field, f"{label} must be a whole number{got}"
    if kind.startswith("float_") or kind == "finite_number":
        return field, f"{label} must be a finite number{got}"
    if kind.startswith("bool_"):
        return field, f"{label} must be true or false{got}"
    if kind == "literal_error":
        return field, f"{label} must be one of {ctx.get('expected')}{got}"
    if kind == "string_pattern_mismatch":
        return field, f"{label} may hold only letters, digits, '-' and '_' (1 to 64 of them){got}"
    if kind == "json_invalid":
        return None, "the request body is not valid JSON"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return None, "the request body must be a JSON object"
    if kind == "extra_forbidden":
        return field, f"unknown field {field!r}"
    return field, f"{label}: {err.get('msg', 'invalid value')}"


def error_response(errors: list[tuple[str | None, str]], status: int = 422) -> JSONResponse:
    return JSONResponse({"detail": errors[0][1], "errors": [{"field": f, "message": m} for f, m in errors]},
                        status_code=status)


def validation_errors(exc: ValidationError | RequestValidationError) -> JSONResponse:
    return error_response([describe(e) for e in exc.errors()])


FASTAPI_PARSE_ERROR = "There was an error parsing the body"   # FastAPI's 400 for a JSON body it cannot read


def unreadable_body(exc: HTTPException) -> tuple[str | None, str]:
    """(field, message) for a 400 raised while a body was parsed: FastAPI's for JSON (the cause says what), or
    Starlette's for a multipart form (its detail says what)."""
    if exc.detail != FASTAPI_PARSE_ERROR:
        detail = str(exc.detail).rstrip(".")
        field = "file" if "files" in detail else None
        return field, f"the upload is not a form this server reads: {detail[0].lower()}{detail[1:]}"
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        return None, "the request body is nested too deeply to be read"
    if isinstance(cause, UnicodeDecodeError):
        return None, "the request body is not valid JSON: it is not UTF-8 text"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return None, "the request body is not valid JSON here: a number in it has more than 4,300 digits"
    return None, "the request body is not valid JSON"


def install(app: FastAPI) -> None:
    """Register the handlers: validation and UserError -> 422, Busy -> 409, anything else -> a plain 500."""

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError):
        return validation_errors(exc)

    @app.exception_handler(ValidationError)
    async def _validation(request: Request, exc: ValidationError):
        return validation_errors(exc)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError):
        return error_response([(getattr(exc, "field", None), str(exc))])

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if isinstance(exc.__cause__, ClientDisconnect):    # FastAPI wraps it while it reads a JSON body
            return await _gone(request, exc.__cause__)
        if exc.status_code == 400:     # a body that cannot be parsed: bad input, as every other (422)
            return error_response([unreadable_body(exc)])
        message = f"no such file: {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        answer = error_response([(None, message)], status=exc.status_code)
        answer.headers.update(exc.headers or {})
        return answer

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect):
        log.info("the client went away during %s %s, before its request was all sent", request.method,
                 request.url.path)
        return Response(status_code=400)   # sent nowhere: uvicorn drops what follows a disconnect

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy):
        return error_response([(None, str(exc))], status=409)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response([(None, f"internal error ({type(exc).__name__}); the server log has details")],
                              status=500)
