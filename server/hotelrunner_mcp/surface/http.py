"""`hotelrunner-mcp serve --http`: MCP over streamable HTTP, HotelRunner's push and a health check in one process.

One Starlette app, one set of services (the same quota ledger, mirror and audit log as the stdio server):

    /mcp                                      MCP streamable HTTP (the SDK's transport), bearer token required
                                              when authentication is configured (surface/auth.py)
    /.well-known/oauth-protected-resource/mcp RFC 9728 metadata, with HOTELRUNNER_OAUTH_ISSUER
    /hotelrunner/callback                     HotelRunner's push (reservations/push.py: its own token check)
    /health                                   {"status": "ok"} for monitoring

Safety rules: it refuses to listen on a non-loopback address, or to be announced at a public URL,
without authentication; Host and Origin are always checked (DNS rebinding): loopback names, the public
URL's host, and whatever HOTELRUNNER_ALLOWED_HOSTS / _ORIGINS add; request bodies are bounded (1 MB for
MCP, 2 MB for a push). uvicorn's access log stays off: HotelRunner puts its token in the push's query string.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hotelrunner_mcp import __version__
from hotelrunner_mcp.config import LOOPBACK_HOSTS, Settings
from hotelrunner_mcp.errors import HotelRunnerError
from hotelrunner_mcp.reservations.push import DEFAULT_PATH as PUSH_PATH
from hotelrunner_mcp.reservations.push import webhook_routes
from hotelrunner_mcp.surface.auth import HttpAuth, http_auth
from hotelrunner_mcp.surface.server import build_server
from hotelrunner_mcp.surface.tokens import TokenStore
from hotelrunner_mcp.surface.tools.runtime import ToolRuntime

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MCP_PATH = "/mcp"
MAX_MCP_BODY_BYTES = 1_000_000  # the largest tool call (a year of calendar changes) is far below this
LOOPBACK_BIND = LOOPBACK_HOSTS | {"127.0.0.1", "::1", "localhost"}


class RefusedToServe(Exception):
    """The HTTP server will not start like this; the message says why and what to do."""


@dataclass(frozen=True)
class HttpOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    stateless: bool = False  # no sessions: for several processes on one machine behind a local balancer

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_BIND or self.host.startswith("127.")


def resource_url(settings: Settings, options: HttpOptions) -> str:
    """The URL clients use for /mcp: HOTELRUNNER_PUBLIC_URL, else this address."""
    if settings.public_url:
        return settings.public_url
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{options.port}{MCP_PATH}"


def transport_security(settings: Settings, options: HttpOptions) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: the Host and Origin a legitimate client sends."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if settings.public_url:
        public = urlsplit(settings.public_url)
        hosts += [public.netloc, f"{public.hostname}:*"]
        origins.append(f"{public.scheme}://{public.netloc}")
    if not options.loopback and options.host not in ("0.0.0.0", "::"):
        hosts.append(f"{options.host}:{options.port}")
    hosts += settings.allowed_hosts
    origins += settings.allowed_origins
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=list(dict.fromkeys(hosts)), allowed_origins=origins
    )


def check_exposure(settings: Settings, options: HttpOptions, auth: HttpAuth | None) -> None:
    """Refuse to serve reservations and price changes to a network without authentication."""
    if auth is not None:
        return
    public = settings.public_url and urlsplit(settings.public_url).hostname not in LOOPBACK_HOSTS
    if options.loopback and not public:
        return
    where = f"on {options.host}" if not options.loopback else f"as {settings.public_url}"
    raise RefusedToServe(
        f"refusing to serve {where} without authentication: anyone who reaches it could read guests' "
        "bookings and change prices. Issue a token with `hotelrunner-mcp token add NAME` (clients send it as "
        "`Authorization: Bearer ...`), or set HOTELRUNNER_OAUTH_ISSUER to accept your identity provider's "
        "tokens; or listen on 127.0.0.1 for this machine only."
    )


def build_http_app(
    settings: Settings,
    options: HttpOptions | None = None,
    *,
    tokens: TokenStore | None = None,
    runtime: ToolRuntime | None = None,
) -> Starlette:
    """The whole HTTP server as an ASGI app (uvicorn runs it; tests serve it on a free loopback port).

    `tokens`: where the owner's tokens live (default: the settings' data folder; `--sandbox` passes the
    live folder's, since the sandbox's own folder is temporary). Raises RefusedToServe (see above)."""
    options = options or HttpOptions()
    tokens = tokens or TokenStore(settings.data_dir)
    url = resource_url(settings, options)
    auth = http_auth(settings, tokens, url)
    check_exposure(settings, options, auth)
    runtime = runtime or ToolRuntime(settings)
    server = build_server(settings, runtime, auth=auth)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=options.stateless,
        max_request_body_size=MAX_MCP_BODY_BYTES,
        transport_security=transport_security(settings, options),
        host=options.host,
    )
    app.router.routes.extend([*_push_routes(settings, runtime), Route("/health", _health, methods=["GET"])])
    app.state.auth = auth
    app.state.resource_url = url
    return app


def _push_routes(settings: Settings, runtime: ToolRuntime) -> list[Route]:
    """HotelRunner's push, on the server's own mirror and audit log (opened now, so a broken data folder
    shows at start; the MCP side still starts and setup-status says what is wrong)."""
    try:
        services = runtime.services()
    except HotelRunnerError as exc:
        log.error("the push receiver is off: %s", exc.message)
        message = exc.message

        async def unavailable(request: Request) -> JSONResponse:
            return JSONResponse({"status": "error", "error": "storage_unavailable", "message": message}, 503)

        return [Route(PUSH_PATH, unavailable, methods=["POST"])]
    if not settings.configured:
        log.warning("HotelRunner credentials are not set: every push will be refused (401) until they are")
    return webhook_routes(settings, services.store, services.audit)


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


def serve_http(settings: Settings, options: HttpOptions, *, tokens: TokenStore | None = None) -> None:
    """Run the HTTP server until interrupted (blocking)."""
    import uvicorn

    app = build_http_app(settings, options, tokens=tokens)
    auth: HttpAuth | None = app.state.auth
    log.info(
        "MCP over HTTP at %s (%s); HotelRunner push at %s; %s",
        app.state.resource_url,
        settings.environment,
        PUSH_PATH,
        f"authentication: {auth.description}" if auth else "NO authentication (this machine only)",
    )
    # access_log off: HotelRunner's push carries its token in the query string.
    uvicorn.run(
        app,
        host=options.host,
        port=options.port,
        access_log=False,
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=5,
    )
