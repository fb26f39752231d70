"""The smaller promises of the edge: cross-site writes refused, the console's headers on
every URL of the page, local API docs, model files only from the model directories, keys
that can be listed and revoked, private files, upload names that never collide, and 500s
that are problem details counted in /metrics."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from app.main import create_app
from tests.fixtures import LOCAL_URL, make_service

pytestmark = pytest.mark.slow


SERVICE: dict = {}  # auth off, as `make run` has it


def upload(client: TestClient, name: str, text: bytes = b"# Note\n\nhello\n", **headers):
    return client.post("/v1/documents", files=[("files", (name, text, "text/markdown"))], **headers)


def test_cross_site_writes_are_refused_with_auth_off(client) -> None:
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        r = upload(client, "csrf.md", headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "cross_site_refused", headers
        r = client.request("DELETE", "/v1/documents/1", headers=headers)
        assert r.status_code == 403
    assert "upload/csrf.md" not in {d["source"] for d in client.get("/v1/documents").json()}
    # The console itself (same origin) and clients that send no Origin still work.
    assert upload(client, "ok.md", headers={"Origin": "http://localhost"}).status_code == 201
    assert upload(client, "ok2.md").status_code == 201


def test_every_url_of_the_console_page_has_its_headers(client) -> None:
    for path in ("/", "/console/index.html", "/console/console.js"):
        r = client.get(path)
        assert r.status_code == 200
        assert "script-src 'self'" in r.headers["content-security-policy"], path
        assert r.headers["x-content-type-options"] == "nosniff"


def test_api_docs_load_nothing_from_elsewhere(client) -> None:
    r = client.get("/docs")
    page = r.text
    policy = r.headers["content-security-policy"]  # the console's headers (issue 29)
    assert "frame-ancestors 'none'" in policy and r.headers["x-frame-options"] == "DENY"
    script_src = policy.split("script-src")[1].split(";")[0]
    assert "'sha256-" in script_src and "unsafe-inline" not in script_src
    assert "/docs-assets/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/docs-assets/{asset}").status_code == 200


def test_models_register_only_from_the_model_directories(client, service, tmp_path) -> None:
    outside = tmp_path / "outside.gguf"
    outside.write_bytes(b"GGUF" + b"\0" * 64)
    models_dir = service.settings.models_dir
    (models_dir / "policy-test-dir").mkdir(exist_ok=True)
    link = models_dir / "policy-test-link.gguf"
    link.unlink(missing_ok=True)
    link.symlink_to(outside)
    fifo = models_dir / "policy-test-fifo.gguf"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    try:
        cases = {
            str(outside): 403,  # exists, outside
            "/proc/kmsg": 403,
            "/etc/passwd": 403,
            str(tmp_path / "missing.gguf"): 404,  # same answer shape as existing: no oracle
            str(link): 403,  # a link out of the directory is outside
            str(models_dir / "policy-test-dir"): 422,
            str(fifo): 422,
        }
        for path, status in cases.items():
            r = client.post("/v1/models", json={"path": path, "name": "probe"})
            assert r.status_code == status, (path, r.text)
            detail = r.json()["detail"]
            assert str(tmp_path) not in detail and "/proc" not in detail and "/etc" not in detail
            assert str(models_dir) not in detail
        # Outside the directories, a missing file and an existing one read the same.
        missing = client.post("/v1/models", json={"path": "/nonexistent/x.gguf", "name": "p"})
        present = client.post("/v1/models", json={"path": str(outside), "name": "p"})
        assert missing.json()["detail"] != str(outside)
        assert {missing.status_code, present.status_code} <= {403, 404}
    finally:
        link.unlink()
        fifo.unlink()
        (models_dir / "policy-test-dir").rmdir()


def test_keys_are_listed_and_revoked_at_once(service, tmp_path) -> None:
    settings = service.settings.model_copy(update={"auth_enabled": True})
    env = {"FACTVAULT_DATA_DIR": str(settings.data_dir), "FACTVAULT_DATABASE_URL": ""}
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--scope", "read", "--name", "laptop"], env=env)
    assert created.exit_code == 0, created.output
    key = created.output.strip()
    listed = runner.invoke(cli, ["keys", "list"], env=env)
    assert "laptop" in listed.output and key[:10] in listed.output and key not in listed.output
    with TestClient(create_app(settings, service), base_url=LOCAL_URL) as c:
        service.settings = settings
        try:
            q = {"question": "wifi", "top_k": 1}
            assert c.post("/v1/retrieve", json=q, headers={"X-API-Key": key}).status_code == 200
            revoked = runner.invoke(cli, ["keys", "revoke", key[:10]], env=env)
            assert revoked.exit_code == 0, revoked.output
            r = c.post("/v1/retrieve", json=q, headers={"X-API-Key": key})
            assert r.status_code == 401 and r.json()["code"] == "unauthorized"
            assert "laptop" in runner.invoke(cli, ["keys", "list"], env=env).output
            bad = runner.invoke(cli, ["keys", "revoke", "fv_nothing"], env=env)
            assert bad.exit_code != 0 and "no key" in bad.output
        finally:
            service.settings = settings.model_copy(update={"auth_enabled": False})


def test_the_data_dir_and_its_files_are_private(service) -> None:
    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    settings = service.settings
    assert mode(settings.data_dir) == 0o700
    assert mode(settings.data_dir / "factvault.db") == 0o600
    assembled = list(settings.models_dir.glob("*.gguf"))
    assert assembled  # the split bundled models, put together for this test session
    for model in assembled:
        assert mode(model) == 0o400, model  # frozen weights, this user's only


def test_upload_names_never_silently_replace_each_other(client) -> None:
    files = [
        ("files", ("a?b.md", b"# One\n\nfirst file\n", "text/markdown")),
        ("files", ("a*b.md", b"# Two\n\nsecond file\n", "text/markdown")),
        ("files", ("a_b.md", b"# Three\n\nthird file\n", "text/markdown")),
        ("files", ("dup.md", b"# Four\n\nfourth file\n", "text/markdown")),
        ("files", ("x/dup.md", b"# Five\n\nfifth file\n", "text/markdown")),
    ]
    r = client.post("/v1/documents", files=files)
    assert r.status_code == 201, r.text
    body = r.json()
    sources = {d["source"] for d in body["documents"]}
    assert len({s for s in sources if s.startswith("upload/a")}) == 3, sources
    assert "upload/a_b.md" in sources and "upload/dup.md" in sources
    assert [f["file"] for f in body["failed"]] == ["upload/dup.md"]
    assert "same name" in body["failed"][0]["reason"]


def test_an_unexpected_error_is_a_counted_problem(tmp_path, minilm, models_dir) -> None:
    state = make_service(tmp_path, minilm, models_dir, "smollm2-135m")
    try:
        with TestClient(create_app(state.settings, state), base_url=LOCAL_URL) as c:
            # The index's collection vanishes from under the service (a store wiped by hand).
            state.runtime.store.drop_collection(state.collection())
            r = c.post("/v1/retrieve", json={"question": "wifi"})
            assert r.status_code == 500
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "internal_error" and "Traceback" not in r.text
            metrics = c.get("/metrics").text
            assert 'factvault_requests_total{route="/v1/retrieve",status="500"} 1' in metrics
    finally:
        state.close()
