"""Who may use the playground: the checks every request passes before any route sees it.

In order, each refusal one line in the error shape of seqlab.app.errors:
- Host (403): only a loopback name or address, the address the server listens on, or a name allowed with
  --allow-host. A page on a hostile name re-pointed at 127.0.0.1 (DNS rebinding) sends its own name as Host.
- token (401): off loopback, `Authorization: Bearer TOKEN`, the cookie set by `?token=TOKEN`, or that query.
- Origin (403): a request that changes or computes anything (every method but GET/HEAD/OPTIONS, and the event
  streams) whose Origin is not the page's own (scheme, host, port; `null` too); without Origin, its Referer's;
  with neither (curl, a Python client) it is let in, as OWASP advises. A foreign Origin on any request is refused.
- Content-Type (415): a body sent to a JSON endpoint must say application/json, so that no "simple"
  cross-site request (text/plain, or a Blob without a type) reaches one.
It is plain ASGI (no response body is buffered), so the event streams pass through untouched.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser

from seqlab.app.errors import error_response

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
STREAMS = frozenset({"/api/train/events"})     # GETs that hold the server's attention: checked like a POST
FORMS = frozenset({"/api/train"})              # the upload: multipart, not JSON
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is this machine's loopback."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, int | None]:
    """(host, port) of a Host header or an origin's netloc: 'localhost:8000', '[::1]:8000', 'example.com'.
    The host comes lowercase, without brackets or a trailing dot; ('', None) when it cannot be read."""
    try:
        parts = urlsplit("//" + value)
        return (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return "", None


@dataclass(frozen=True)
class Doors:
    """What the server lets in: the host names it answers to (beside the loopback ones), whether any IP
    address is an acceptable Host (when it listens on every address), and the token (None: none needed)."""

    hosts: frozenset[str] = field(default_factory=frozenset)
    any_address: bool = False
    token: str | None = None

    @classmethod
    def listening_on(cls, address: str, allow: list[str] | tuple[str, ...] = (), token: str | None = None):
        """The doors of a server listening on `address` (as given to --host) with --allow-host names `allow`."""
        bare = address.strip("[]").lower()
        names = {bare} if bare not in WILDCARDS else set()
        names |= {split_host(n)[0] or n.lower() for n in allow}
        return cls(frozenset(names), bare in WILDCARDS, token)

    def host_allowed(self, host: str) -> bool:
        return host in LOOPBACK_NAMES or is_loopback(host) or host in self.hosts or (
            self.any_address and _is_ip(host))


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an Origin or Referer value; None for `null` or anything unreadable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.rstrip("."), port or DEFAULT_PORTS.get(parts.scheme.lower())


class DoorCheck:
    """ASGI middleware applying `doors` to every HTTP request, the page and its static files included."""

    def __init__(self, app, doors: Doors):
        self.app = app
        self.doors = doors

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            status, message = refusal
            answer = error_response([(None, message)], status=status)
            if status == 401:
                answer.headers["WWW-Authenticate"] = "Bearer"
            return await answer(scope, receive, send)
        cookie = self._cookie_to_set(scope, headers)
        if cookie is None:
            return await self.app(scope, receive, send)

        async def with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        return await self.app(scope, receive, with_cookie)

    def refusal(self, scope, headers: Headers) -> tuple[int, str] | None:
        """(status, one line) for a request that may not come in; None to let it in."""
        raw = headers.get("host", "")
        host, port = split_host(raw)
        if not host or not self.doors.host_allowed(host):
            shown = host or raw or "(none)"
            return 403, (f"refused the Host {shown!r}: this server answers only to 127.0.0.1, localhost, [::1], "
                         f"the address it listens on and names given with --allow-host (seqlab serve "
                         f"--allow-host {shown} allows this one)")
        if self.doors.token is not None and not self._has_token(scope, headers):
            return 401, ("this playground needs its token: open the address `seqlab serve` printed (it ends "
                         "with ?token=...), or send the header Authorization: Bearer TOKEN")
        method, path = scope["method"], scope["path"]
        scheme = scope.get("scheme", "http")
        own = (scheme, host, port or DEFAULT_PORTS.get(scheme))
        guarded = method not in SAFE or path in STREAMS
        origin, referer = headers.get("origin"), headers.get("referer")
        said = ("Origin", origin) if origin is not None else ("Referer", referer) if guarded and referer else None
        if said is not None and _origin_of(said[1]) != own:
            return 403, (f"refused a cross-site request ({said[0]}: {said[1][:100]}): only the playground's own "
                         f"page ({scheme}://{raw}) and clients that send no Origin may use it")
        if method not in SAFE and path not in FORMS and _has_body(headers):
            kind = headers.get("content-type", "")
            if kind.split(";")[0].strip().lower() != "application/json":
                return 415, (f"{method} {path} takes a JSON body with Content-Type: application/json, got "
                             f"{(kind[:60] or 'no Content-Type')!r}")
        return None

    def _has_token(self, scope, headers: Headers) -> bool:
        token = self.doors.token
        offered = []
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            offered.append(auth[7:].strip())
        offered.append(cookie_parser(headers.get("cookie", "")).get(_cookie_name(scope), ""))
        offered += parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
        return any(secrets.compare_digest(o.encode(), token.encode()) for o in offered if o)

    def _cookie_to_set(self, scope, headers: Headers) -> bytes | None:
        """The Set-Cookie value when the token came in the query and not yet as the cookie."""
        token = self.doors.token
        if token is None:
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
        if not any(secrets.compare_digest(q.encode(), token.encode()) for q in query):
            return None
        if cookie_parser(headers.get("cookie", "")).get(_cookie_name(scope)) == token:
            return None
        return f"{_cookie_name(scope)}={token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")


def _cookie_name(scope) -> str:
    """One cookie per port: cookies are shared by every port of a host, and two servers must not mix."""
    server = scope.get("server") or ("", 0)
    return f"seqlab_token_{server[1]}"


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() != "0")
