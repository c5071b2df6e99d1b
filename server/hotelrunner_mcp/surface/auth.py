"""Who may use `serve --http`: bearer tokens the owner issued, or JWT access tokens from an identity provider.

Two kinds of token, both checked by the MCP SDK's bearer middleware (401 without a valid token, 403 when
a required scope is missing, each with a WWW-Authenticate header):

- the owner's tokens (`hotelrunner-mcp token add NAME [--read-only]`, surface/tokens.py): the name is
  the client; a read-only token lacks the write scope;
- with HOTELRUNNER_OAUTH_ISSUER, JWT access tokens that issuer signed (keys from its JWKS), whose audience
  is this server's resource URL, valid now, carrying the required scopes. Signatures are checked by
  PyJWT; only asymmetric algorithms are accepted. This server is a resource server only: it publishes
  RFC 9728 protected-resource metadata pointing at the issuer and issues no tokens of its own.

Either way the write tools need the write scope (HOTELRUNNER_OAUTH_WRITE_SCOPE): without it a client
sees no write tool and a call to one is refused (surface/protocol.py). Neither kind is ever the
HotelRunner token, which clients never see or send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpx2
import jwt
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings

from hotelrunner_mcp.config import ConfigError, Settings
from hotelrunner_mcp.surface.tokens import TOKEN_PREFIX, TokenStore

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 30  # clock skew between the identity provider and this machine
OWNER_ISSUER = "hotelrunner-mcp"  # the `iss` recorded for the owner's tokens


def caller() -> AccessToken | None:
    """The access token of the HTTP request being served (None on stdio or without authentication)."""
    return get_access_token()


def caller_name(declared: str | None) -> str | None:
    """The client name for the audit log: the token's name (or the JWT's client) when authenticated,
    else what the client declared about itself."""
    token = caller()
    return token.client_id if token is not None else declared


def may_write(write_scope: str) -> bool:
    """True unless the request is authenticated by a token without the write scope."""
    token = caller()
    return token is None or write_scope in token.scopes


class OwnerTokens:
    """TokenVerifier for the owner's tokens (read afresh, so a revoked token stops at once)."""

    def __init__(self, store: TokenStore, settings: Settings) -> None:
        self._store = store
        self._scopes = list(settings.oauth_scopes)
        self._write_scope = settings.oauth_write_scope

    async def verify_token(self, token: str) -> AccessToken | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        try:
            entry = await anyio.to_thread.run_sync(self._store.verify, token)
        except Exception:  # an unreadable tokens file lets nobody in; the log says why
            log.exception("the client tokens file could not be read")
            return None
        if entry is None:
            return None
        scopes = self._scopes + ([] if entry.read_only else [self._write_scope])
        return AccessToken(
            token=token, client_id=entry.name, scopes=scopes, subject=entry.name, claims={"iss": OWNER_ISSUER}
        )


class JwtAccessTokens:
    """TokenVerifier for JWT access tokens signed by the configured issuer, meant for this resource."""

    def __init__(self, issuer: str, audience: str, jwks_url: str | None = None) -> None:
        self.issuer = issuer
        self.audience = audience
        self._jwks_url = jwks_url
        self._keys: jwt.PyJWKClient | None = None
        self._lock = anyio.Lock()

    async def verify_token(self, token: str) -> AccessToken | None:
        if token.startswith(TOKEN_PREFIX) or token.count(".") != 2:
            return None
        try:
            keys = await self._key_client()
            signing = await anyio.to_thread.run_sync(keys.get_signing_key_from_jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing.key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, httpx2.HTTPError, ValueError, KeyError) as exc:
            log.info("bearer JWT refused: %s", type(exc).__name__)
            return None
        client = claims.get("client_id") or claims.get("azp") or claims.get("sub") or "oauth-client"
        return AccessToken(
            token=token,
            client_id=str(client),
            scopes=_scopes(claims),
            expires_at=int(claims["exp"]),
            resource=self.audience,
            subject=str(claims["sub"]) if claims.get("sub") is not None else None,
            claims={"iss": claims["iss"]},
        )

    async def _key_client(self) -> jwt.PyJWKClient:
        async with self._lock:
            if self._keys is None:
                url = self._jwks_url or await discover_jwks_url(self.issuer)
                self._keys = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=10)
            return self._keys


def _scopes(claims: dict[str, Any]) -> list[str]:
    """`scope` (RFC 9068: space-separated) or `scp` (a list, or a string, as some providers send it)."""
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, list):
        return [str(s) for s in raw]
    return str(raw).split()


async def discover_jwks_url(issuer: str) -> str:
    """`jwks_uri` from the issuer's RFC 8414 metadata, else its OpenID configuration."""
    parts = urlsplit(issuer)
    root = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    candidates = [
        f"{root}/.well-known/oauth-authorization-server{path}",
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
    ]
    async with httpx2.AsyncClient(timeout=10) as client:
        for url in candidates:
            try:
                response = await client.get(url)
                if response.is_success and isinstance(found := response.json().get("jwks_uri"), str):
                    return found
            except (httpx2.HTTPError, ValueError, AttributeError):
                continue
    raise ValueError(f"no jwks_uri in {issuer}'s metadata; set HOTELRUNNER_OAUTH_JWKS_URL")


class AnyOf:
    """The first verifier that accepts the token wins."""

    def __init__(self, *verifiers: TokenVerifier) -> None:
        self._verifiers = verifiers

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self._verifiers:
            found = await verifier.verify_token(token)
            if found is not None:
                return found
        return None


@dataclass(frozen=True)
class HttpAuth:
    """What the MCP SDK needs to require authentication on /mcp."""

    settings: AuthSettings
    verifier: TokenVerifier
    description: str  # for the start-up log line

    @property
    def publishes_metadata(self) -> bool:
        return self.settings.resource_server_url is not None


def http_auth(settings: Settings, store: TokenStore, resource_url: str) -> HttpAuth | None:
    """Authentication for `serve --http`: owner tokens when any were issued, JWTs when an issuer is set,
    both when both; None when neither (allowed only on loopback, see surface/http.py)."""
    verifiers: list[TokenVerifier] = []
    kinds = []
    issued = store.tokens()
    if issued:
        verifiers.append(OwnerTokens(store, settings))
        kinds.append(f"{len(issued)} owner token(s) from {store.path}")
    if settings.oauth_issuer:
        verifiers.append(JwtAccessTokens(settings.oauth_issuer, resource_url, settings.oauth_jwks_url))
        kinds.append(f"JWT access tokens from {settings.oauth_issuer} for {resource_url}")
    if not verifiers:
        return None
    if settings.oauth_write_scope in settings.oauth_scopes:
        raise ConfigError("HOTELRUNNER_OAUTH_WRITE_SCOPE must not be one of HOTELRUNNER_OAUTH_SCOPES")
    auth = AuthSettings(
        issuer_url=settings.oauth_issuer or resource_url,  # pydantic parses the str
        resource_server_url=resource_url if settings.oauth_issuer else None,
        required_scopes=list(settings.oauth_scopes),
        validate_token_resource=False if settings.oauth_issuer else None,  # the JWT check holds the audience
    )
    verifier = verifiers[0] if len(verifiers) == 1 else AnyOf(*verifiers)
    return HttpAuth(auth, verifier, "; ".join(kinds))
