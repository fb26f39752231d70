"""`factvault mcp`: factvault as an MCP server on stdin/stdout, for a desktop client."""

from __future__ import annotations

import typer

from app.cli.connect import running_service
from app.cli.output import fail


def mcp() -> None:
    """Serve MCP over stdio (for Claude Desktop, IDE agents) through the running service.

    Start `factvault serve` first; the tools use FACTVAULT_API_KEY's scope and collections.
    Over HTTP, the service itself serves MCP at /mcp."""
    client = running_service()
    if client is None:
        raise fail("no factvault service is running: start it with `factvault serve`")
    from app.mcp_stdio import serve_stdio

    try:
        serve_stdio(client)
    finally:
        client.close()


def register(app: typer.Typer) -> None:
    app.command()(mcp)
