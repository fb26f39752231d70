"""OpenID Connect access tokens beside API keys, against a local issuer: a key pair made
here, discovery and JWKS served over HTTP on loopback. A valid token reads its groups'
collections and owns its conversations; an expired token, a wrong audience, a wrong
issuer, ``alg: none``, an HMAC token signed with the public key as the secret, and a key
removed from the JWKS are each refused with 401; a rotated key is picked up.

Real service (MiniLM; no answer is generated), auth on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from app.core.auth import create_key
from app.core.oidc import OidcVerifier
from app.main import create_app
from tests.fixtures import LOCAL_URL, make_service

pytestmark = pytest.mark.slow

AUDIENCE = "factvault-api"
SALARY = "The salary band for a Senior Optical Engineer is 71,000 to 84,000 pounds (QX-7731)."
QUESTION = "What is the salary band for a Senior Optical Engineer?"
GROUPS = {"kb-staff": "read:default", "hr-team": "read:hr", "kb-admins": "admin"}
CACHE_SECONDS = 2.0  # how long the service trusts the JWKS it fetched (an unknown kid
# fetches it again at most every CACHE_SECONDS / 10)


class Issuer:
    """An identity provider on loopback: discovery, a JWKS that can change, and tokens."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.published: list[str] = []  # kids in the JWKS
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks"}
                elif self.path == "/jwks":
                    issuer.fetches += 1
                    body = {"keys": [issuer.jwk(kid) for kid in issuer.published]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.published.append(kid)

    def jwk(self, kid: str) -> dict:
        data = RSAAlgorithm.to_jwk(self.keys[kid].public_key(), as_dict=True)
        return {**data, "kid": kid, "alg": "RS256", "use": "sig"}

    def token(self, sub: str = "alice", groups: tuple[str, ...] = ("hr-team",), kid: str = "k1",
              **claims: Any) -> str:  # fmt: skip
        now = int(time.time())
        payload = {"iss": self.url, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 300,
                   "groups": list(groups), **claims}  # fmt: skip
        return jwt.encode(payload, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def public_pem(self, kid: str) -> bytes:
        public = self.keys[kid].public_key()
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, payload: dict, secret: bytes | None = None) -> str:
    """A token made by hand: ``alg: none`` (no signature), or HS256 with ``secret``."""
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = b""
    if secret is not None:
        signature = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(signature)}"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    idp = Issuer()
    idp.add_key("k1")
    yield idp
    idp.server.shutdown()


@pytest.fixture(scope="module")
def api(issuer: Issuer, tmp_path_factory, minilm, models_dir) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("oidc")
    state = make_service(
        root, minilm, models_dir, auth_enabled=True, oidc_issuer=issuer.url,
        oidc_audience=AUDIENCE, oidc_groups=GROUPS, oidc_jwks_cache_seconds=CACHE_SECONDS,
    )  # fmt: skip
    hr = root / "hr"
    hr.mkdir()
    (hr / "salary-bands.md").write_text(f"# Salary bands 2026\n\n{SALARY}\n")
    state.ingest_files([("hr/salary-bands.md", hr / "salary-bands.md")], collection="hr")
    with TestClient(create_app(state.settings, state), base_url=LOCAL_URL) as client:
        client.app_state = state  # type: ignore[attr-defined]
        yield client
    state.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def retrieve(api: TestClient, token: str, **body: Any):
    return api.post("/v1/retrieve", json={"question": QUESTION, "top_k": 5, **body},
                    headers=bearer(token))  # fmt: skip


def test_a_valid_token_reads_its_groups_collections(api: TestClient, issuer: Issuer) -> None:
    hr = retrieve(api, issuer.token(groups=("hr-team",)))
    assert hr.status_code == 200, hr.text
    assert {c["collection"] for c in hr.json()["chunks"]} == {"hr"}
    staff = retrieve(api, issuer.token(groups=("kb-staff",)))
    assert staff.status_code == 200
    sources = {c["source"] for c in staff.json()["chunks"]}
    assert sources and "hr/salary-bands.md" not in sources
    refused = retrieve(api, issuer.token(groups=("kb-staff",)), filters={"collections": ["hr"]})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    # Both groups: the union of their collections, at the read scope.
    both = api.get("/v1/collections", headers=bearer(issuer.token(groups=("kb-staff", "hr-team"))))
    assert {c["name"] for c in both.json()} == {"default", "hr"}
    # A reader may not write; an admin group may.
    upload = {"files": ("x.md", b"# x\n\nsome text", "text/markdown")}
    as_reader = api.post("/v1/documents", files=upload, headers=bearer(issuer.token()))
    assert as_reader.status_code == 403
    # No mapped group: refused, whatever else is right about the token.
    stranger = retrieve(api, issuer.token(groups=("marketing",)))
    assert stranger.status_code == 401 and "groups" in stranger.json()["detail"]


def test_conversations_belong_to_the_tokens_subject(api: TestClient, issuer: Issuer) -> None:
    alice, bob = issuer.token(sub="alice"), issuer.token(sub="bob")
    created = api.post("/v1/conversations", headers=bearer(alice))
    assert created.status_code in (200, 201), created.text
    conv = created.json()["id"]
    assert api.get(f"/v1/conversations/{conv}", headers=bearer(alice)).status_code == 200
    assert api.get(f"/v1/conversations/{conv}", headers=bearer(bob)).status_code == 404
    with api.app_state.runtime.db.session() as s:  # type: ignore[attr-defined]
        key = create_key(s, "reader", "read")
    assert api.get(f"/v1/conversations/{conv}", headers=bearer(key)).status_code == 404
    listed = api.get("/v1/conversations", headers=bearer(bob)).json()
    assert conv not in json.dumps(listed)


def test_bad_tokens_are_refused(api: TestClient, issuer: Issuer) -> None:
    now = int(time.time())
    good = {"iss": issuer.url, "aud": AUDIENCE, "sub": "mallory", "exp": now + 300,
            "groups": ["kb-admins"]}  # fmt: skip
    cases = {
        "expired": issuer.token(exp=now - 120, iat=now - 600),  # past the 60 s leeway
        "audience": issuer.token(aud="another-api"),
        "issuer": issuer.token(iss="https://idp.example.org"),
        "alg none": unsigned({"alg": "none", "typ": "JWT", "kid": "k1"}, good),
        "hs256 with the public key": unsigned(
            {"alg": "HS256", "typ": "JWT", "kid": "k1"}, good, secret=issuer.public_pem("k1")
        ),
        "tampered": issuer.token(groups=("kb-staff",))[:-8] + "AAAAAAAA",
    }
    for what, token in cases.items():
        r = retrieve(api, token)
        assert r.status_code == 401, (what, r.status_code, r.text)
        assert r.json()["code"] == "unauthorized", what
    assert retrieve(api, issuer.token()).status_code == 200  # the issuer itself still works


def test_keys_rotate_and_a_removed_key_stops_working(api: TestClient, issuer: Issuer) -> None:
    old = issuer.token(kid="k1")
    assert retrieve(api, old).status_code == 200
    issuer.add_key("k2")  # rotated in: its kid is unknown, so the JWKS is fetched again
    time.sleep(CACHE_SECONDS / 10 + 0.1)  # (no more often than this), long before the
    fetches = issuer.fetches  # cached copy would age out
    assert retrieve(api, issuer.token(kid="k2")).status_code == 200
    assert issuer.fetches == fetches + 1
    issuer.published.remove("k1")  # rotated out
    time.sleep(CACHE_SECONDS + 0.2)  # the service's copy of the JWKS ages out
    r = retrieve(api, old)
    assert r.status_code == 401 and "key" in r.json()["detail"], r.text
    assert retrieve(api, issuer.token(kid="k2")).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"algorithms": ["RS256", "HS256"]}, "FACTVAULT_OIDC_ALGORITHMS"),
        ({"algorithms": ["none"]}, "FACTVAULT_OIDC_ALGORITHMS"),
        ({"audience": None}, "FACTVAULT_OIDC_AUDIENCE"),
        ({"issuer": "http://idp.example.org"}, "FACTVAULT_OIDC_ISSUER"),
        ({"groups": {"hr-team": "write:hr"}}, "FACTVAULT_OIDC_GROUPS"),
    ],
)
def test_a_bad_setting_is_named(overrides: dict, named: str) -> None:
    config = {"issuer": "https://idp.example.org", "audience": AUDIENCE,
              "algorithms": ["RS256"], "claim": "groups", "groups": GROUPS}  # fmt: skip
    with pytest.raises(ValueError, match=named):
        OidcVerifier(**{**config, **overrides})
