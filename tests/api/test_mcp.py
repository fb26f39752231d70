"""factvault as an MCP server, driven by the official SDK's own client over both transports:
streamable HTTP at /mcp of the running service, and stdio (`factvault mcp`, a subprocess
that goes through that service). A cited answer, a search, a document read as a resource;
a key limited to one collection sees nothing of another; a bad key is refused.

Real service (MiniLM, the default Qwen2.5-Coder-1.5B: SmolLM2 declines this question), auth
on."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from app.core.auth import create_key
from app.service import FactVault
from tests.fixtures import REPO, LiveServer

pytestmark = pytest.mark.slow

SERVICE = {"auth_enabled": True, "default_model": "qwen2.5-coder-1.5b"}
SALARY = "The salary band for a Senior Optical Engineer is 71,000 to 84,000 pounds (QX-7731)."
QUESTION = "What is the salary band for a Senior Optical Engineer?"


@pytest.fixture(scope="module")
def keys(service: FactVault, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    hr = tmp_path_factory.mktemp("hr")
    (hr / "salary-bands.md").write_text(f"# Salary bands 2026\n\n{SALARY}\n")
    service.ingest_files([("hr/salary-bands.md", hr / "salary-bands.md")], collection="hr")
    with service.runtime.db.session() as s:
        return {
            "staff": create_key(s, "staff", "read", ["default"]),
            "hr": create_key(s, "hr", "read", ["hr"]),
        }


Session = Callable[[Client], Awaitable[Any]]


def over_http(live: LiveServer, key: str, work: Session) -> Any:
    async def run() -> Any:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx2.AsyncClient(headers=headers, timeout=300) as http:
            transport = streamable_http_client(f"{live.url}/mcp", http_client=http)
            async with Client(transport) as client:
                return await work(client)

    return asyncio.run(run())


def over_stdio(live: LiveServer, key: str, work: Session) -> Any:
    env = {
        **os.environ,
        "FACTVAULT_DATA_DIR": str(live.state.settings.data_dir),
        "FACTVAULT_HOST": "127.0.0.1",
        "FACTVAULT_PORT": str(live.port),
        "FACTVAULT_API_KEY": key,
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "app.cli", "mcp"], env=env, cwd=str(REPO)
    )

    async def run() -> Any:
        async with Client(params, read_timeout_seconds=300) as client:
            return await work(client)

    return asyncio.run(run())


TRANSPORTS = {"http": over_http, "stdio": over_stdio}


@pytest.fixture(scope="module", params=sorted(TRANSPORTS))
def mcp(request: pytest.FixtureRequest, live_server: LiveServer, keys: dict[str, str]):
    way = TRANSPORTS[request.param]
    return lambda key, work: way(live_server, keys[key], work)


async def _search_ask_read(client: Client) -> dict[str, Any]:
    tools = {t.name for t in (await client.list_tools()).tools}
    found = await client.call_tool("search", {"question": QUESTION, "top_k": 3})
    asked = await client.call_tool("ask", {"question": QUESTION})
    collections = await client.call_tool("list_collections", {})
    docs = await client.call_tool("list_documents", {"collection": "hr"})
    assert not docs.is_error, docs.content
    doc_id = docs.structured_content["documents"][0]["id"]
    text = await client.read_resource(f"factvault://documents/{doc_id}")
    return {
        "tools": tools,
        "search": found.structured_content,
        "ask": asked.structured_content,
        "collections": collections.structured_content,
        "resource": text.contents[0].text,
    }


def test_an_agent_searches_asks_and_reads_a_document(mcp) -> None:
    got = mcp("hr", _search_ask_read)
    assert {"search", "ask", "list_collections", "list_documents"} <= got["tools"]
    passages = got["search"]["passages"]
    assert passages[0]["source"] == "hr/salary-bands.md" and "71,000" in passages[0]["text"]
    answer = got["ask"]
    assert answer["model"]["name"] == "qwen2.5-coder-1.5b"
    assert len(answer["model"]["sha256"]) == 64
    assert answer["grounded"] and answer["withheld"] == 0 and "71,000" in answer["answer"]
    assert {c["source"] for c in answer["citations"]} == {"hr/salary-bands.md"}
    assert "[1]" in answer["answer"] and answer["citations"][0]["n"] == 1
    assert got["collections"]["collections"] == [{"name": "hr", "documents": 1}]
    assert SALARY in got["resource"]


async def _everything_of_another_collection(client: Client) -> dict[str, Any]:
    found = await client.call_tool("search", {"question": QUESTION, "top_k": 10})
    asked = await client.call_tool("ask", {"question": QUESTION, "collections": ["hr"]})
    docs = await client.call_tool("list_documents", {"collection": "hr"})
    collections = await client.call_tool("list_collections", {})
    try:
        await client.read_resource("factvault://documents/1000000")
        hidden = "read"
    except MCPError as exc:
        hidden = str(exc)
    return {
        "search": found.structured_content,
        "ask": (asked.is_error, asked.content[0].text),
        "docs": (docs.is_error, docs.content[0].text),
        "collections": collections.structured_content,
        "missing": hidden,
    }


def test_a_key_limited_to_one_collection_sees_nothing_of_another(mcp, service) -> None:
    got = mcp("staff", _everything_of_another_collection)
    sources = {p["source"] for p in got["search"]["passages"]}
    assert sources and "hr/salary-bands.md" not in sources
    assert all(p["collection"] == "default" for p in got["search"]["passages"])
    assert got["ask"][0] and "forbidden" in got["ask"][1] and "hr" in got["ask"][1]
    assert got["docs"][0] and "forbidden" in got["docs"][1]
    assert [c["name"] for c in got["collections"]["collections"]] == ["default"]
    assert "not_found" in got["missing"]

    # The hr document itself, by its id: as absent as one that does not exist.
    hr_id = next(d.id for d in service.list_documents() if d.collection == "hr")

    async def read_hr(client: Client) -> str:
        try:
            await client.read_resource(f"factvault://documents/{hr_id}")
        except MCPError as exc:
            return str(exc)
        return "read"

    refusal = mcp("staff", read_hr)
    assert "not_found" in refusal and SALARY not in refusal


def test_a_bad_key_is_refused_before_the_body_is_read(live_server: LiveServer) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    for headers in ({}, {"Authorization": "Bearer fv_not_a_key"}):
        r = httpx.post(f"{live_server.url}/mcp", json=body, headers=headers, timeout=30)
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "unauthorized"

    async def never(client: Client) -> None:
        await client.list_tools()

    with pytest.raises(Exception):  # noqa: B017 - the SDK reports a 401 its own way
        over_http(live_server, "fv_not_a_key", never)


def test_stdio_says_plainly_when_no_service_runs(tmp_path) -> None:
    import subprocess

    env = {**os.environ, "FACTVAULT_DATA_DIR": str(tmp_path), "FACTVAULT_PORT": "9"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "mcp"], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode != 0 and done.stdout == ""
    assert "factvault serve" in done.stderr
