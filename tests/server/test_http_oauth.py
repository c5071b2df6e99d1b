"""`serve --http` as an OAuth 2.1 resource server (issue 9): JWT access tokens from an identity provider the
test plays on loopback (its RFC 8414 metadata and JWKS, keys the test makes), checked for signature,
issuer, audience (this server's /mcp URL), expiry and scopes; RFC 9728 protected-resource metadata
published through the SDK; the write scope decides whether the write tools exist for the caller."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.gate.audit import read_audit
from loopback import serving

from .http_support import RunningHttp, connect_http, run_http

pytestmark = pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
ACCEPT = {"Accept": "application/json, text/event-stream"}


@dataclass
class IdentityProvider:
    issuer: str
    key: rsa.RSAPrivateKey
    kid: str = "test-key-1"

    def token(self, audience: str, scope: str = "hotelrunner:read hotelrunner:write", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": audience, "sub": "user-42", "client_id": "claude-web", "scope": scope}
        body.update(iat=now, exp=now + 300)
        body.update(claims)
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    """An identity provider on loopback: RFC 8414 metadata naming its JWKS, and the JWKS itself."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    provider: dict[str, IdentityProvider] = {}

    async def metadata(request: Request) -> JSONResponse:
        issuer = provider["idp"].issuer
        return JSONResponse({"issuer": issuer, "jwks_uri": issuer + "/jwks.json", "token_endpoint": issuer + "/token"})

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [{**jwk, "kid": provider["idp"].kid, "use": "sig", "alg": "RS256"}]})

    app = Starlette(routes=[Route("/.well-known/oauth-authorization-server", metadata), Route("/jwks.json", jwks)])
    with serving(app) as root:
        provider["idp"] = IdentityProvider(root, key)
        yield provider["idp"]


def refused(http: RunningHttp, token: str | None) -> httpx2.Response:
    headers = {**ACCEPT, **({"Authorization": f"Bearer {token}"} if token else {})}
    return httpx2.post(http.mcp_url, json=INITIALIZE, headers=headers)


async def test_jwts_from_the_issuer_are_checked_and_scopes_decide_the_tools(
    settings: Settings, idp: IdentityProvider
) -> None:
    oauth = settings.with_overrides(oauth_issuer=idp.issuer)  # its JWKS found through its metadata
    with run_http(oauth) as http:
        audience = http.mcp_url
        metadata = httpx2.get(http.root + "/.well-known/oauth-protected-resource/mcp").json()
        assert metadata["resource"] == audience
        assert metadata["authorization_servers"] == [idp.issuer]
        assert metadata["scopes_supported"] == ["hotelrunner:read"]

        anonymous = refused(http, None)
        assert anonymous.status_code == 401
        assert "resource_metadata=" in anonymous.headers["www-authenticate"]
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(
            {"iss": idp.issuer, "aud": audience, "exp": int(time.time()) + 60, "scope": "hotelrunner:read"},
            other_key,
            algorithm="RS256",
            headers={"kid": idp.kid},
        )
        for bad in (
            idp.token("https://another-server.example/mcp"),  # meant for another resource
            idp.token(audience, exp=int(time.time()) - 120),  # expired
            idp.token(audience, iss="https://evil.example"),  # another issuer
            forged,  # not signed by the issuer's key
            jwt.encode(
                {"iss": idp.issuer, "aud": audience, "exp": int(time.time()) + 60},
                "a-shared-secret-long-enough-for-hs256!",
                algorithm="HS256",
            ),
        ):
            answer = refused(http, bad)
            assert answer.status_code == 401, bad
            assert answer.headers["www-authenticate"].startswith("Bearer ")

        unscoped = refused(http, idp.token(audience, scope="profile"))
        assert unscoped.status_code == 403
        assert 'error="insufficient_scope"' in unscoped.headers["www-authenticate"]

        async with connect_http(audience, idp.token(audience)) as mcp:
            assert "update_calendar" in {t.name for t in (await mcp.client.list_tools()).tools}
            await mcp.ok("get_rooms")
        async with connect_http(audience, idp.token(audience, scope="hotelrunner:read")) as mcp:
            assert "update_calendar" not in {t.name for t in (await mcp.client.list_tools()).tools}

    clients = {r["client"] for r in read_audit(oauth.audit_file) if r["event"] == "tool_call"}
    assert clients == {"claude-web"}  # the JWT's client_id


async def test_an_explicit_jwks_url_and_a_public_url_set_the_keys_and_the_audience(
    settings: Settings, idp: IdentityProvider
) -> None:
    public = "https://hotel.example.com/mcp"
    oauth = settings.with_overrides(
        oauth_issuer=idp.issuer, oauth_jwks_url=idp.issuer + "/jwks.json", public_url=public
    )
    with run_http(oauth) as http:
        assert httpx2.get(http.root + "/.well-known/oauth-protected-resource/mcp").json()["resource"] == public
        assert refused(http, idp.token(http.mcp_url)).status_code == 401  # the audience is the public URL now
        headers = {"Host": "hotel.example.com"}  # what the reverse proxy forwards
        async with httpx2.AsyncClient(headers=headers) as client:
            answer = await client.post(
                http.mcp_url,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "proxy-test", "version": "1"},
                    },
                },
                headers={**ACCEPT, "Authorization": f"Bearer {idp.token(public)}"},
            )
        assert answer.status_code == 200, answer.text
