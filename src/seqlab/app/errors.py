"""How the playground answers bad requests: HTTP 422 with one readable line per field, never a traceback.

Every error body is `{"detail": first message, "errors": [{"field": name or null, "message": line}]}`; the page
shows each message next to the field it names (or at the top of the panel when it names none).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

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

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy):
        return error_response([(None, str(exc))], status=409)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response([(None, f"internal error ({type(exc).__name__}); the server log has details")],
                              status=500)
