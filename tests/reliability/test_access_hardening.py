"""Who may act on what (issue 29, items 1-3 and the smaller disclosures): a collection-limited
admin key manages its collections' documents and nothing installation-wide; the API reaches
only the inference endpoints the operator allowed, and does not say why one failed; a
request for a host name this service was not told it answers for is refused, auth on or
off; a source (and every attachment derived from it) is written only by a key that may write
the collection holding it; paths and totals go only to keys that may see them."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from app.core.auth import create_key
from app.main import create_app
from app.service import FactVault
from tests.fixtures import LOCAL_URL

pytestmark = pytest.mark.slow

SECRET = b"# Vault codes\n\nThe vault code for the north archive is 4417-KESTREL.\n"


SERVICE = {"auth_enabled": True}


@pytest.fixture(scope="module", autouse=True)
def board(service: FactVault) -> None:
    """A document in a collection of its own, that limited keys must not reach."""
    root = service.settings.data_dir.parent
    (root / "board.md").write_text("# Board minutes\n\nThe board met in March.\n")
    service.ingest_files([("board/minutes.md", root / "board.md")], collection="board")


@pytest.fixture(scope="module")
def keys(service: FactVault) -> dict[str, dict[str, str]]:
    with service.runtime.db.session() as s:
        made = {
            "operator": create_key(s, "operator", "admin"),
            "staff-admin": create_key(s, "staff-admin", "admin", ["default"]),
            "staff": create_key(s, "staff", "read", ["default"]),
        }
    return {name: {"X-API-Key": key} for name, key in made.items()}


@pytest.fixture
def settings_changed(service: FactVault) -> Iterator[callable]:
    """Change the running service's settings for one test; restored afterwards."""
    original = service.settings

    def change(**update: object) -> None:
        service.settings = original.model_copy(update=update)

    yield change
    service.settings = original


class Listener:
    """A loopback TCP port that counts the connections it accepts (and answers HTTP 404)."""

    def __init__(self) -> None:
        self.connections = 0
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server calls it by this name
                listener.connections += 1
                self.send_error(404)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed once this returns


@pytest.fixture(scope="module")
def client(service: FactVault) -> Iterator[TestClient]:
    with TestClient(create_app(service.settings, service), base_url=LOCAL_URL) as c:
        yield c


def test_a_collection_admin_cannot_act_on_the_installation(client, keys, listener) -> None:
    limited = keys["staff-admin"]
    installation_wide = [
        ("POST", "/v1/models", {"name": "evil", "endpoints": [listener.url]}),
        ("PUT", "/v1/models/active", {"name": "qwen2.5-coder-0.5b"}),
        ("POST", "/v1/models/smollm2-135m/endpoints", {"url": listener.url}),
        ("POST", "/v1/models/smollm2-135m/endpoints/drain", {"url": listener.url}),
        ("POST", "/v1/index/reindex", {"embedder": "minilm"}),
        ("POST", "/v1/index/rollback", None),
    ]
    for method, path, body in installation_wide:
        r = client.request(method, path, json=body, headers=limited)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (path, r.text)
        assert "limited to collections" in r.json()["detail"]
    assert listener.connections == 0  # refused before anything was fetched
    assert client.get("/v1/models", headers=keys["operator"]).json()["active"] == "smollm2-135m"
    # It still manages its collection's documents.
    files = {"files": ("staff-note.md", b"# Note\n\nThe canteen opens at 8.\n")}
    stored = client.post("/v1/documents", files=files, headers=limited)
    assert stored.status_code == 201, stored.text
    # An admin key limited to none is the operator: past the scope check, to the validation.
    r = client.post("/v1/index/reindex", json={"embedder": "nonesuch"}, headers=keys["operator"])
    assert r.status_code == 422 and r.json()["code"] != "forbidden", r.text


def test_endpoints_only_from_the_allow_list_and_no_port_oracle(
    client, keys, listener, settings_changed
) -> None:
    operator = keys["operator"]
    r = client.post(
        "/v1/models", json={"name": "probe", "endpoints": [listener.url]}, headers=operator
    )
    assert r.status_code == 403 and r.json()["code"] == "endpoint_not_allowed", r.text
    r = client.post("/v1/models/smollm2-135m/endpoints", json={"url": listener.url},
                    headers=operator)  # fmt: skip
    assert r.status_code == 403 and r.json()["code"] == "endpoint_not_allowed", r.text
    assert listener.connections == 0
    # Allowed: a refused port and an HTTP error read the same (no map of the network).
    settings_changed(inference_endpoint_hosts=["127.0.0.0/8"])
    details = []
    for url in (closed_port(), listener.url):
        r = client.post("/v1/models", json={"name": "probe", "endpoints": [url]}, headers=operator)
        assert r.status_code == 422, r.text
        details.append(r.json()["detail"].replace(url, "URL"))
    assert listener.connections == 1  # this time it was asked
    assert details[0] == details[1] == "endpoint URL: not reachable or not an inference server"
    # A name entry never matches an address, and a network never matches a name.
    settings_changed(inference_endpoint_hosts=["localhost"])
    r = client.post("/v1/models", json={"name": "p", "endpoints": [listener.url]}, headers=operator)
    assert r.status_code == 403


def test_a_foreign_host_name_is_refused_auth_on_or_off(client, keys, settings_changed) -> None:
    """What a DNS-rebinding page sends: its own domain as Host, and a matching Origin."""
    rebound = {"Host": "evil.example:8000", "Origin": "http://evil.example:8000"}
    for auth in (True, False):
        settings_changed(auth_enabled=auth)
        files = {"files": ("rebind.md", b"# Planted\n\nplanted text\n")}
        attempts = [
            client.post("/v1/documents", files=files, headers=rebound),
            client.get("/v1/documents", headers=rebound),
            client.delete("/v1/documents/1", headers=rebound),
            client.put("/v1/models/active", json={"name": "smollm2-135m"}, headers=rebound),
            client.get("/", headers=rebound),
            client.get("/healthz", headers={"Host": "evil.example"}),
        ]
        for r in attempts:
            assert r.status_code == 400 and r.json()["code"] == "host_not_allowed", r.text
    settings_changed(auth_enabled=False)
    assert "upload/rebind.md" not in {d.source for d in client.app.state.service.list_documents()}
    # This machine's names and addresses, and names the operator lists, are served.
    for host in ("localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "10.1.2.3"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
    settings_changed(auth_enabled=False, allowed_hosts=["kb.example.org", "*.corp.example"])
    for host, status in (
        ("kb.example.org", 200), ("kb.example.org.", 200), ("wiki.corp.example:443", 200),
        ("corp.example", 400), ("evil.kb.example.org", 400), ("kb.example.org.evil", 400),
    ):  # fmt: skip
        assert client.get("/healthz", headers={"Host": host}).status_code == status, host


def _mail_with(attachment: str, data: bytes) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = "Pack"
    msg["From"] = "a@example.org"
    msg["To"] = "b@example.org"
    msg.set_content("The pack is attached.\n")
    msg.add_attachment(data, maintype="text", subtype="plain", filename=attachment)
    return bytes(msg)


def test_sources_belong_to_their_collections(client, keys, service) -> None:
    operator, limited = keys["operator"], keys["staff-admin"]
    target = "/share/pack.eml#codes.txt"
    stored = client.post(
        "/v1/documents", params={"source": target, "collection": "restricted"},
        files={"files": ("codes.txt", SECRET)}, headers=operator,
    )  # fmt: skip
    assert stored.status_code == 201, stored.text
    doc_id = stored.json()["documents"][0]["id"]
    # A mail in default whose attachment is named like the restricted document.
    planted = client.post(
        "/v1/documents", params={"source": "/share/pack.eml", "collection": "default"},
        files={"files": ("pack.eml", _mail_with("codes.txt", b"Overwritten by staff.\n"))},
        headers=limited,
    )  # fmt: skip
    assert planted.status_code == 201, planted.text
    assert [f["file"] for f in planted.json()["failed"]] == [target]
    kept = next(d for d in service.list_documents() if d.id == doc_id)
    assert (kept.collection, kept.source) == ("restricted", target)
    chunks = service.retrieve("vault code north archive", 20)
    assert any("4417-KESTREL" in c.text for c in chunks if c.document_id == doc_id)
    assert client.delete(f"/v1/documents/{doc_id}", headers=limited).status_code == 404
    # Writing the restricted path directly: refused without saying whose it is.
    r = client.post(
        "/v1/documents", params={"source": target, "collection": "default"},
        files={"files": ("codes.txt", b"mine now\n")}, headers=limited,
    )  # fmt: skip
    assert r.status_code == 403 and "restricted" not in r.text and "collection" not in r.text
    # A path is normalised once: //x and /a/./x are /x and /a/x.
    r = client.post(
        "/v1/documents", params={"source": "//share/./notes//memo.md", "collection": "default"},
        files={"files": ("memo.md", b"# Memo\n\nThe memo text.\n")}, headers=limited,
    )  # fmt: skip
    assert r.status_code == 201 and r.json()["documents"][0]["source"] == "/share/notes/memo.md"


def test_paths_and_totals_only_to_keys_that_may_see_them(client, keys, service) -> None:
    staff = client.get("/v1/models", headers=keys["staff"]).json()["data"]
    assert staff and all(m["path"] is None and m["provenance"] is None for m in staff)
    operator = client.get("/v1/models", headers=keys["operator"]).json()["data"]
    assert all(m["path"] for m in operator)
    everything = client.get("/v1/index", headers=keys["operator"]).json()["counts"]
    mine = client.get("/v1/index", headers=keys["staff"]).json()
    in_default = [d for d in service.list_documents() if d.collection == "default"]
    assert everything["documents"] > len(in_default)  # the restricted documents exist
    assert mine["counts"]["documents"] == len(in_default)
    assert mine["counts"]["points"] is None
    assert all(v["chunk_count"] is None for v in mine["versions"])
