"""The service's edge: what is decided before any body is read, and what every response is.

``RequestGuard`` (ASGI, around the whole app) and ``GuardedRoute`` (the class of every API
route: FastAPI's documented hook that runs before the route reads its body) do, in order:

0. Host check: a request whose ``Host`` names neither this machine nor an allowed name
   (``FACTVAULT_ALLOWED_HOSTS``) is refused, auth on or off, whatever its method: a page on
   a DNS-rebinding domain reaches the loopback port but still names its own domain.
1. Cross-site refusal: a state-changing request (not GET/HEAD/OPTIONS) that a browser marks
   as coming from another site (``Sec-Fetch-Site``, or an ``Origin`` other than the host) is
   refused. The API has no CORS, so no legitimate page elsewhere sends one; with auth off
   this is what keeps any web page from uploading into the store.
2. Authentication from the headers alone: a protected route (one that declares
   ``ReadScope``/``AdminScope``) without a valid key gets 401, a key of too small a scope
   403, a key over its request rate 429.
3. A byte budget on the body actually received, chunked or not: a declared length over it
   is refused at once, and a body that grows past it is cut off where it crosses it. So no
   caller, with or without a key, makes the service read, spool or parse more than that.
4. Outcomes: every response, including a 500 from an unexpected error (answered as a
   problem+json ``internal_error``, never a bare text page), is counted in ``/metrics``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem
from app.core.auth import lookup_key
from app.core.netpolicy import serves_host
from app.core.oidc import IssuerUnreachable, TokenRefused
from app.ratelimit import RateLimited
from app.service.access import EVERYONE, Access

if TYPE_CHECKING:
    from app.service import FactVault

log = logging.getLogger("factvault.service")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MULTIPART_FRAMING = 1 << 20  # room for part headers and boundaries around the files
CLOSE = {"Connection": "close"}  # a body not read to its end: the connection cannot go on


class BodyTooLarge(HTTPException):
    """The body received so far is over the route's budget (raised inside ``receive``, so it
    surfaces in whatever is reading the body, and FastAPI passes HTTP exceptions through)."""

    def __init__(self, budget: int, what: str) -> None:
        super().__init__(413, f"{what} is over the {budget:,}-byte limit", CLOSE)
        self.code = body_too_large_code(what)


class BodyTooSlow(HTTPException):
    """No piece of the body arrived for ``seconds`` (raised inside ``receive``, as above)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"the request body paused for more than {seconds:g} s", CLOSE)
        self.code = "request_timeout"


def body_too_large_code(what: str) -> str:
    return "upload_too_large" if what == "upload" else "request_too_large"


def route_policy(route: object) -> tuple[str | None, str]:
    """The scope a route needs and which byte budget applies to its body, as the route
    declares them through its dependencies (see deps.py)."""
    needed, budget = None, "request"
    for dependency in getattr(route, "dependencies", ()):
        call = dependency.dependency
        needed = getattr(call, "required_scope", needed)
        budget = getattr(call, "body_budget", budget)
    return needed, budget


class RequestGuard:
    """Cross-site refusal before routing, and the outcome of every request, counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        service = scope["app"].state.service
        status = {"code": 0}

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            settings = service.settings
            if not serves_host(_header(scope, b"host"), settings.host, settings.allowed_hosts):
                await problem(
                    400, "host_not_allowed", "this service does not answer for that host name "
                    "(FACTVAULT_ALLOWED_HOSTS lists the names it answers for)",
                )(scope, receive, send_counted)  # fmt: skip
                return
            if scope["method"] not in SAFE_METHODS and _cross_site(scope):
                await problem(
                    403, "cross_site_refused", "a browser request from another site may not "
                    "change anything here",
                )(scope, receive, send_counted)  # fmt: skip
                return
            await self.app(scope, receive, send_counted)
        except (BodyTooLarge, BodyTooSlow) as exc:
            if status["code"] == 0:
                await problem(exc.status_code, exc.code, exc.detail, exc.headers)(
                    scope, receive, send_counted
                )
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if status["code"] == 0:
                await problem(500, "internal_error", "the service hit an unexpected error")(
                    scope, receive, send_counted
                )
            else:
                status["code"] = 500  # broke off after the headers were sent
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            service.metrics.request(path, status["code"] or 500)
            service.metrics.stage("http", time.perf_counter() - started)


class GuardedRoute(APIRoute):
    """An API route that authenticates, rate-limits and budgets its body before reading it.

    What to enforce comes from the route's own declarations (``route_policy``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needed, budget_name = route_policy(self)

        async def guarded(request: Request) -> Response:
            service = request.app.state.service
            refusal = await authenticate(request.scope, needed, service)
            if refusal is not None:
                return refusal
            budget, what = service.settings.max_request_bytes, "request body"
            if budget_name == "upload":
                budget, what = service.settings.max_upload_bytes + MULTIPART_FRAMING, "upload"
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > budget:
                return problem(
                    413, body_too_large_code(what), f"{what} of {int(declared):,} bytes is over "
                    f"the {budget:,}-byte limit",
                )  # fmt: skip
            receive = budgeted(request.receive, budget, what, service.settings.body_read_seconds)
            return await handler(Request(request.scope, receive))

        return guarded


async def authenticate(scope: Scope, needed: str | None, service: FactVault) -> Response | None:
    """A problem response if the caller may not go on, else None (and the caller is recorded
    in ``scope["state"]["caller"]`` for the route's dependencies)."""
    if needed is None:
        return None  # a public route
    caller = EVERYONE
    if service.settings.auth_enabled:
        key = api_key_of(scope)
        if not key:
            return problem(
                401, "unauthorized", "an API key is required", {"WWW-Authenticate": "Bearer"}
            )
        if service.oidc is not None and looks_like_token(key):
            try:
                caller = await anyio.to_thread.run_sync(token_caller, service, key)
            except TokenRefused as exc:
                return problem(401, "unauthorized", str(exc), {"WWW-Authenticate": "Bearer"})
            except IssuerUnreachable as exc:
                log.warning("identity provider unreachable: %s", exc)
                return problem(503, "idp_unreachable", "the identity provider could not be "
                               "reached to check the token")  # fmt: skip
        else:
            found = await anyio.to_thread.run_sync(lookup_caller, service, key)
            if found is None:
                return problem(401, "unauthorized", "unknown or revoked API key")
            caller = Access(*found)
        if not caller.allows(needed):
            return problem(403, "forbidden", caller.refusal(needed))
        try:
            service.limits.take_request(str(caller.owner))
        except RateLimited as exc:
            return problem(429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)})
    scope.setdefault("state", {})["caller"] = caller
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def api_key_of(scope: Scope) -> str | None:
    authorization = _header(scope, b"authorization")
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return (_header(scope, b"x-api-key") or "").strip() or None


def looks_like_token(key: str) -> bool:
    """A JWT (three base64url parts, a JSON header first), not an API key (``fv_…``)."""
    return key.startswith("eyJ") and key.count(".") == 2


def token_caller(service: FactVault, token: str) -> Access:
    """The caller an OpenID Connect access token is (TokenRefused: not one to believe)."""
    grant = service.oidc.verify(token)
    return Access(None, grant.scope, grant.collections, grant.subject)


def lookup_caller(service: FactVault, key: str) -> tuple[int, str, tuple[str, ...] | None] | None:
    with service.runtime.db.session() as s:
        return lookup_key(s, key)


def _cross_site(scope: Scope) -> bool:
    fetch_site = (_header(scope, b"sec-fetch-site") or "").lower()
    if fetch_site in ("cross-site", "same-site"):
        return True
    origin = _header(scope, b"origin")
    if origin is None:
        return False  # not sent by a browser page (curl, the CLI, the OpenAI client)
    host = (_header(scope, b"host") or "").lower()
    return origin == "null" or urlsplit(origin).netloc.lower() != host


def budgeted(receive: Receive, budget: int, what: str, pause_seconds: float) -> Receive:
    """``receive`` held to a byte budget and to a longest pause between two pieces of the
    body (a slow sender holds a connection and a spool file; it is not waited for)."""
    received = 0
    done = False

    async def receive_within_budget() -> Message:
        nonlocal received, done
        if done:  # the body is in: what comes next is a disconnect, waited for as it is
            return await receive()
        try:
            with anyio.fail_after(pause_seconds):
                message = await receive()
        except TimeoutError as exc:
            raise BodyTooSlow(pause_seconds) from exc
        if message["type"] != "http.request" or not message.get("more_body", False):
            done = True
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > budget:
                raise BodyTooLarge(budget, what)
        return message

    return receive_within_budget
