"""OpenID Connect login for the workbench: the authorization code flow with PKCE (RFC 7636),
run by the API as the client, so the browser never holds a token, only the session cookie.

The API redirects the browser to the issuer's authorization endpoint with a fresh `state`,
`nonce` and S256 code challenge, kept in a short-lived HttpOnly cookie scoped to the callback;
the issuer sends the browser back with a code, which the API exchanges (with the verifier, and
the client secret for a confidential client) for an ID token, verified against the issuer's
published keys: signature, issuer, audience, expiry and nonce. The subject the token names must
be a user in the directory; what they may see comes from there, never from the token's claims.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from argus.security.identity import AuthError
from argus.topology import OidcModel

DISCOVERY_TTL = 300.0
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


@dataclass(frozen=True)
class Pending:
    """What the browser carries between the redirect to the issuer and the callback."""

    state: str
    nonce: str
    verifier: str

    def cookie(self) -> str:
        return f"{self.state}.{self.nonce}.{self.verifier}"

    @staticmethod
    def parse(value: str | None) -> Pending | None:
        parts = (value or "").split(".")
        return Pending(*parts) if len(parts) == 3 and all(parts) else None


class IssuerUnavailable(Exception):
    """The identity provider could not be asked (down, unreachable, or answering nonsense): the
    login can be tried again later; nothing about the person is decided."""


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcClient:
    def __init__(self, cfg: OidcModel, timeout: float = 10.0) -> None:
        self.cfg = cfg
        self.timeout = timeout
        self._meta: dict[str, Any] | None = None
        self._meta_at = 0.0
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document, fetched once per few minutes."""
        with self._lock:
            if self._meta is None or time.monotonic() - self._meta_at > DISCOVERY_TTL:
                url = self.cfg.issuer.rstrip("/") + "/.well-known/openid-configuration"
                try:
                    r = httpx.get(url, timeout=self.timeout)
                    r.raise_for_status()
                    meta = r.json()
                except (httpx.HTTPError, ValueError) as exc:
                    raise IssuerUnavailable(f"discovery at {url}: {type(exc).__name__}") from None
                if not isinstance(meta, dict) or not all(
                    isinstance(meta.get(k), str) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                ):
                    raise IssuerUnavailable(f"discovery at {url}: not an OpenID provider's configuration")
                if meta.get("issuer") != self.cfg.issuer.rstrip("/"):
                    raise AuthError(f"the discovery document names issuer {meta.get('issuer')!r}")
                self._meta, self._meta_at = meta, time.monotonic()
                self._jwks = jwt.PyJWKClient(meta["jwks_uri"], cache_keys=True, timeout=int(self.timeout))
            return self._meta

    def start(self, redirect_uri: str) -> tuple[str, Pending]:
        """The issuer's authorization URL to send the browser to, and what to keep for the callback."""
        p = Pending(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))
        query = {
            "response_type": "code",
            "client_id": self.cfg.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.cfg.scope,
            "state": p.state,
            "nonce": p.nonce,
            "code_challenge": challenge(p.verifier),
            "code_challenge_method": "S256",
        }
        return f"{self.metadata()['authorization_endpoint']}?{urlencode(query)}", p

    def finish(self, code: str, redirect_uri: str, pending: Pending) -> str:
        """Exchange the code for an ID token, verify it, and answer the subject id it names."""
        meta = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.cfg.client_id,
            "code_verifier": pending.verifier,
        }
        secret = os.environ.get(self.cfg.client_secret_env)
        if secret:
            form["client_secret"] = secret
        try:
            r = httpx.post(meta["token_endpoint"], data=form, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise IssuerUnavailable(f"token endpoint: {type(exc).__name__}") from None
        if r.status_code != 200:
            raise AuthError(f"the issuer refused the code ({r.status_code})")
        try:
            id_token = r.json().get("id_token")
        except (ValueError, AttributeError):
            id_token = None
        if not isinstance(id_token, str):
            raise AuthError("the issuer's answer has no ID token")
        return self.subject_of(id_token, pending.nonce)

    def subject_of(self, id_token: str, nonce: str) -> str:
        assert self._jwks is not None
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token)
            claims = jwt.decode(
                id_token, key.key, algorithms=ALGORITHMS, audience=self.cfg.client_id,
                issuer=self.cfg.issuer.rstrip("/"), leeway=30,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise AuthError(f"ID token rejected: {exc}") from None
        if not secrets.compare_digest(str(claims.get("nonce")), nonce):
            raise AuthError("ID token for another login (nonce)")
        subject = claims.get(self.cfg.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise AuthError(f"ID token has no {self.cfg.subject_claim!r} claim")
        return subject
