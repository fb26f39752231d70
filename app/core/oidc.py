"""OpenID Connect access tokens: a caller known by the organisation's identity provider.

API keys are per installation; an organisation's people and groups live in its identity
provider (Entra ID, Okta, Keycloak). A user's client gets an access token there and sends
it as ``Authorization: Bearer …``; this module says whether to believe it and what it
grants. PyJWT does the JOSE work (signature, expiry, audience, issuer); what is decided
here is the policy around it:

- **Whose keys.** The issuer's discovery document (``/.well-known/openid-configuration``)
  names its JWKS, and the document must name the configured issuer itself. The issuer is
  HTTPS unless it is on this machine's loopback (a test's or a sidecar's).
- **Which algorithms.** Only asymmetric ones, pinned in the settings, and the token's
  header must name one of them before any key is looked up: ``alg: none`` and an HMAC
  token signed with the issuer's public key as the secret (the RS/HS confusion) are refused
  for their header alone, and the key is then verified with that one algorithm only.
- **Key rotation.** Keys are found by the token's ``kid``; an unknown ``kid`` fetches the
  JWKS again (a key the issuer just added works; at most once per a tenth of the cache
  time, 30 s by default, so made-up kids cannot flood the issuer), and the whole set is
  fetched again after ``oidc_jwks_cache_seconds`` (a key the issuer removed stops working).
- **Claims.** ``exp``, ``iss``, ``aud`` and ``sub`` are required; expiry and not-before
  get ``oidc_leeway_seconds`` of clock skew.
- **What it grants.** The values of one claim (``groups`` by default, a dotted path such as
  ``realm_access.roles`` for Keycloak) are looked up in ``oidc_groups``: each maps to a scope
  and optionally collections (``"read:hr,default"``). The highest scope among the mapped
  values wins, with the collections of the grants at that scope (so a reader of everything
  who administers one collection is an admin of that collection, never of everything); a
  token with no mapped value is refused. Conversations belong to the token's subject.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt import PyJWKClient

ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
SCOPES = ("read", "admin")  # lowest first
DISCOVERY_SECONDS = 10.0


class TokenRefused(Exception):
    """The token is not one to believe; the message says why, in the caller's terms."""


class IssuerUnreachable(Exception):
    """The identity provider's discovery document or keys could not be fetched."""


@dataclass(frozen=True)
class Grant:
    """What one verified token may do: the caller's subject, scope and collections (None:
    every collection)."""

    subject: str
    scope: str
    collections: tuple[str, ...] | None


def parse_groups(mapping: dict[str, str]) -> dict[str, tuple[str, tuple[str, ...] | None]]:
    """``{"hr-staff": "read:hr,default"}`` → ``{"hr-staff": ("read", ("hr", "default"))}``;
    a bad entry is an error naming the setting and the group."""
    out: dict[str, tuple[str, tuple[str, ...] | None]] = {}
    for group, grant in mapping.items():
        scope, _, names = grant.partition(":")
        scope = scope.strip()
        collections = tuple(c.strip() for c in names.split(",") if c.strip()) if names else None
        if scope not in SCOPES or collections == ():
            raise ValueError(
                f"FACTVAULT_OIDC_GROUPS: {group!r} maps to {grant!r}; expected read or admin, "
                "optionally followed by :collection,collection"
            )
        out[group] = (scope, collections)
    return out


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OidcVerifier:
    """Verifies access tokens of one issuer. Light to construct (the issuer is first asked
    for its keys at ``warm_up()`` or at the first token); thread-safe."""

    def __init__(
        self,
        issuer: str,
        audience: str | None,
        algorithms: list[str],
        claim: str,
        groups: dict[str, str],
        leeway_seconds: int = 60,
        jwks_cache_seconds: float = 300.0,
    ) -> None:
        issuer = issuer.rstrip("/")
        if urlsplit(issuer).scheme != "https" and not _loopback(issuer):
            raise ValueError(f"FACTVAULT_OIDC_ISSUER: {issuer} is not https")
        if not audience:
            raise ValueError("FACTVAULT_OIDC_AUDIENCE: required with FACTVAULT_OIDC_ISSUER")
        weak = sorted(set(algorithms) - ASYMMETRIC)
        if weak or not algorithms:
            raise ValueError(
                f"FACTVAULT_OIDC_ALGORITHMS: {', '.join(weak) or 'none given'}; only asymmetric "
                f"algorithms are accepted ({', '.join(sorted(ASYMMETRIC))})"
            )
        self.issuer = issuer
        self.audience = audience
        self.algorithms = tuple(algorithms)
        self.claim = claim
        self.groups = parse_groups(groups)
        self.leeway = leeway_seconds
        self.cache_seconds = jwks_cache_seconds
        self._keys: PyJWKClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> OidcVerifier | None:
        if not settings.oidc_issuer:
            return None
        return cls(
            settings.oidc_issuer, settings.oidc_audience, settings.oidc_algorithms,
            settings.oidc_claim, settings.oidc_groups, settings.oidc_leeway_seconds,
            settings.oidc_jwks_cache_seconds,
        )  # fmt: skip

    def warm_up(self) -> OidcVerifier:
        """Reads the issuer's discovery document and opens its key set (fetched on use)."""
        self._key_client()
        return self

    def close(self) -> None:
        self._keys = None

    def verify(self, token: str) -> Grant:
        """The grant of a token this issuer signed for this audience, or TokenRefused."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRefused("not a well-formed token") from exc
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRefused(f"token algorithm {alg!r} is not accepted")
        try:
            key = self._key_client().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise IssuerUnreachable(f"{self.issuer}: keys could not be fetched") from exc
        except jwt.PyJWKClientError as exc:
            raise TokenRefused("token signed by a key the issuer does not publish") from exc
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                leeway=self.leeway, options={"require": ["exp", "iss", "aud", "sub"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError as exc:
            raise TokenRefused("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRefused("token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRefused("token is from another issuer") from exc
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"token not accepted: {exc}") from exc
        return self._grant(str(claims["sub"]), self._claim_values(claims))

    def _grant(self, subject: str, values: list[str]) -> Grant:
        grants = [self.groups[v] for v in values if v in self.groups]
        if not grants:
            raise TokenRefused(f"none of the token's {self.claim} is given access here")
        scope = max((g[0] for g in grants), key=SCOPES.index)
        at_scope = [g[1] for g in grants if g[0] == scope]
        if any(c is None for c in at_scope):
            return Grant(subject, scope, None)
        names = dict.fromkeys(c for cs in at_scope if cs for c in cs)
        return Grant(subject, scope, tuple(names))

    def _claim_values(self, claims: dict[str, Any]) -> list[str]:
        value: Any = claims
        for part in self.claim.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [str(v) for v in value]
        return []

    def _key_client(self) -> PyJWKClient:
        with self._lock:
            if self._keys is None:
                self._keys = PyJWKClient(
                    self._jwks_uri(),
                    cache_jwk_set=True,
                    lifespan=max(self.cache_seconds, 0.001),
                    # An unknown kid fetches again at most this often: a flood of made-up
                    # kids must not become a flood of requests to the issuer.
                    cooldown_duration=min(30.0, self.cache_seconds / 10),
                    timeout=DISCOVERY_SECONDS,
                )
            return self._keys

    def _jwks_uri(self) -> str:
        url = f"{self.issuer}/.well-known/openid-configuration"
        try:
            response = httpx.get(url, timeout=DISCOVERY_SECONDS)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IssuerUnreachable(f"{url}: {exc}") from exc
        if str(document.get("issuer", "")).rstrip("/") != self.issuer:
            raise IssuerUnreachable(f"{url} names another issuer: {document.get('issuer')!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise IssuerUnreachable(f"{url} names no jwks_uri")
        return jwks_uri
