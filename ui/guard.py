"""Who may talk to `rag serve`: checks that run on every request before any route sees it.

Two pure ASGI middlewares, so they decide from the headers alone, before a byte of the body is read:

- `OriginGuard` answers only to this server's own names and its own pages (the model is Django's
  `ALLOWED_HOSTS` and CSRF origin check, and Jupyter's host and origin checks on its loopback server):
  * a request whose `Host` is not one of the loopback names, the bound address or `RAG_ALLOWED_HOSTS`
    is a 400 (a page that DNS-rebinds its own name to 127.0.0.1 sends its own name as `Host`);
  * a request whose `Origin` is another site's, or a state-changing one (POST, PUT, PATCH, DELETE)
    that the browser marks `Sec-Fetch-Site: cross-site`, is a 403 (a form on any website can post
    to 127.0.0.1 without a CORS preflight). Clients that send no `Origin` (curl, the openai
    client, Gradio's own client) are not browsers on another site, and pass.
- `KeyCheck` lets a request to the API (`/v1`, the schema and its pages) through only with one of
  the API keys, when keys are set; a request without one gets its 401 without its body being read.

Refusals of `/v1` requests are in the API's JSON shape, others are plain text.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# The API's schema and its two browsable pages (FastAPI's defaults) are the API's too.
API_PAGES = ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")


def split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header (or an Origin's netloc) as (lower-case name without brackets or final dot, port),
    None when it is not one: `[::1]:7860` -> ("::1", 7860), `Example.COM.` -> ("example.com", None)."""
    value = value.strip().lower()
    if value.startswith("["):
        name, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] or None
    else:
        name, sep, port = value.partition(":")
        if sep and (not port or ":" in port):
            return None
        port = port or None
    name = name.rstrip(".")
    if not name or (port is not None and not (port.isdigit() and len(port) <= 5)):
        return None
    return name, int(port) if port else None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """The names this server answers to: loopback, the address it is bound to, and `extra` (a proxy's
    public names; `*` accepts any). Bound to every address (0.0.0.0, ::), any IP address is also its
    own: a rebinding page always sends a DNS name, never an address."""

    def __init__(self, bound: str = "127.0.0.1", extra: Iterable[str] = ()) -> None:
        bound = bound.strip().strip("[]").lower()
        self.any_ip = bound in WILDCARD_ADDRESSES
        self.extra = frozenset(e.strip().lower().strip("[]").rstrip(".") for e in extra if e.strip())
        self.any_name = "*" in self.extra
        self.names = LOOPBACK_NAMES | self.extra | ({bound} if not self.any_ip else set())

    def allows(self, name: str) -> bool:
        return self.any_name or name in self.names or (self.any_ip and _is_ip(name))

    def described(self) -> str:
        names = sorted(f"[{n}]" if ":" in n else n for n in self.names)
        return ", ".join(names) + (" and any IP address" if self.any_ip else "")


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def is_api_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/") or path in API_PAGES


async def refuse(scope, send, status: int, message: str, code: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """Answer `status` without reading the body; `Connection: close` so an unread body ends with it."""
    if scope["type"] == "websocket":
        # Closing before accepting is answered with a 403 by the server.
        await send({"type": "websocket.close", "code": 1008})
        return
    if is_api_path(scope.get("path", "")):
        body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                     "code": code}}).encode()
        content_type = b"application/json"
    else:
        body, content_type = (message + "\n").encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"), (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


def _shown(value: str) -> str:
    # The refused value is the client's own: echoed short, as a repr (no control characters).
    return repr(value if len(value) <= 80 else value[:80] + "…")


class OriginGuard:
    """ASGI middleware: the Host check, then the Origin and Sec-Fetch-Site checks (see the module)."""

    def __init__(self, app, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        problem = self.check(scope)
        if problem is not None:
            return await refuse(scope, send, *problem)
        await self.app(scope, receive, send)

    def check(self, scope) -> tuple[int, str, str] | None:
        """(status, message, code) when the request is refused, else None."""
        raw_host = _header(scope, b"host")
        host = split_host(raw_host) if raw_host is not None else None
        if host is None or not self.policy.allows(host[0]):
            given = "no Host header" if raw_host is None else f"the Host {_shown(raw_host)}"
            return (400, f"{given} is not a name of this server ({self.policy.described()}); to reach it under "
                         "another name, such as a proxy's public one, add that name to RAG_ALLOWED_HOSTS",
                    "host_not_allowed")
        origin = _header(scope, b"origin")
        if origin is not None and not self._own_origin(origin, host, scope.get("scheme", "http")):
            return (403, f"refused: this request comes from a page of another site (Origin {_shown(origin)}); "
                         "only this server's own page may send it (a proxy's public name goes in "
                         "RAG_ALLOWED_HOSTS)", "cross_origin")
        method = scope.get("method", "GET")
        if method in UNSAFE_METHODS and (_header(scope, b"sec-fetch-site") or "").strip().lower() == "cross-site":
            return (403, "refused: the browser says this request comes from a page of another site "
                         "(Sec-Fetch-Site: cross-site); only this server's own page may send it", "cross_origin")
        return None

    def _own_origin(self, origin: str, host: tuple[str, int | None], scheme: str) -> bool:
        """Whether `origin` is the page of this server: the same name and port as the request's
        Host, or a name listed in RAG_ALLOWED_HOSTS (a proxy's public name, on the proxy's port)."""
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (a sandboxed frame, a file), or not an origin at all
        theirs = split_host(parts.netloc)
        if theirs is None:
            return False
        if theirs[0] in self.policy.extra:
            return True
        base = "https" if scheme in ("https", "wss") else "http"
        return (theirs[0], theirs[1] or DEFAULT_PORTS[parts.scheme]) == (host[0], host[1] or DEFAULT_PORTS[base])


class KeyCheck:
    """ASGI middleware: with keys set, an API request (`/v1`, the schema and its pages) needs
    `Authorization: Bearer <one of keys>`; the 401 goes out before its body is read."""

    def __init__(self, app, keys: Iterable[str]) -> None:
        self.app = app
        self.accepted = [k.encode() for k in keys]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self.accepted or not is_api_path(scope.get("path", "")):
            return await self.app(scope, receive, send)
        problem = self.check(_header(scope, b"authorization") or "")
        if problem is not None:
            return await refuse(scope, send, 401, problem, "invalid_api_key", [(b"www-authenticate", b"Bearer")])
        await self.app(scope, receive, send)

    def check(self, authorization: str) -> str | None:
        """The refusal's message, or None when the header carries an accepted key."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "missing API key: send it as `Authorization: Bearer KEY`"
        given = token.strip().encode("latin-1")
        # compare_digest against every key (not `in`): the time taken says nothing about a key.
        if not any([hmac.compare_digest(given, k) for k in self.accepted]):
            return "incorrect API key"
        return None


def install(app, *, host: str, allowed_hosts: str, keys: Iterable[str]) -> None:
    """Put the checks in front of everything `app` serves, the page included: the Host and Origin
    checks first (outermost), then the API keys."""
    app.add_middleware(KeyCheck, keys=keys)
    app.add_middleware(OriginGuard, policy=HostPolicy(host, allowed_hosts.split(",")))
