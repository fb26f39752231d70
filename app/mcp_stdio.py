"""`factvault mcp`: the MCP server over stdio, for a desktop client on this machine.

The client (Claude Desktop, an IDE agent) starts this command and speaks MCP on its stdin
and stdout. The tools are the API's MCP tools (app/api/mcp.py), each call made through the
running service's REST API with the configured key (``FACTVAULT_API_KEY``), like the rest
of the CLI: the key's scope and collections apply, and the service keeps owning the stores.
Nothing but the protocol is written to stdout.
"""

from __future__ import annotations

from urllib.parse import quote

from app.api.mcp import build_server
from app.client import ServiceClient


class ApiLibrary:
    """The tools' calls as REST requests to the running service (app/api/mcp.py's
    ``Library``: the same bodies the in-process one returns)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def search(self, question: str, top_k: int | None, collections: list[str]) -> dict:
        body: dict = {"question": question, "filters": {"collections": collections}}
        if top_k is not None:
            body["top_k"] = top_k
        return self.client.call("POST", "/v1/retrieve", json=body)

    def ask(self, question: str, collections: list[str]) -> dict:
        body = {"question": question, "filters": {"collections": collections}}
        return self.client.call("POST", "/v1/query", json=body)

    def collections(self) -> list[dict]:
        return self.client.call("GET", "/v1/collections")

    def documents(self, collection: str) -> list[dict]:
        return self.client.call("GET", f"/v1/collections/{quote(collection, safe='')}/documents")

    def document(self, doc_id: int) -> dict:
        return self.client.call("GET", f"/v1/documents/{int(doc_id)}/text")


def serve_stdio(client: ServiceClient) -> None:
    """Serves MCP on stdin/stdout until the client closes them."""
    library = ApiLibrary(client)
    build_server(lambda _ctx: library).run("stdio")
