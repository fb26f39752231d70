"""Which way a command reaches factvault: its settings (read once per run), the running
service that owns the data dir if one answers, else the stores in this process; and the SQL
store alone for what needs nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

from app.cli.output import fail, warn
from app.core.config import Settings, get_settings
from app.errors import ServiceError

if TYPE_CHECKING:  # imported where used: a command loads only what it needs
    from app.client import ServiceClient
    from app.service.installation import Installation
    from app.service.interface import Vault


@cache
def settings() -> Settings:
    """The settings of this command run, read once from the environment and `.env`."""
    return get_settings()


@contextmanager
def open_installation() -> Iterator[Installation]:
    """The installation's SQL store alone (keys, the model registry, the caches of contexts
    and questions): works while a server holds the embedded vector store."""
    from app.service.installation import Installation

    installation = Installation(settings())
    try:
        yield installation
    finally:
        installation.close()


def running_service() -> ServiceClient | None:
    """A client of the server that owns this data dir, if one runs; says which URL it uses
    (on stderr, so piped output stays the command's own)."""
    from app.client import ServiceClient

    client = ServiceClient.running(settings())
    if client is not None:
        warn(f"using the service at {client.base_url} (it owns {settings().data_dir})")
    return client


@contextmanager
def open_vault() -> Iterator[Vault]:
    """The use cases through the running server that owns the data dir, if one runs, else
    through a service in this process; closed on the way out."""
    vault: Vault | None = running_service()
    if vault is None:
        from app.service.local import LocalVault

        try:
            vault = LocalVault.open(settings())
        except ServiceError as exc:
            raise fail(exc.detail) from exc
    try:
        yield vault
    finally:
        vault.close()


def require_own_stores() -> None:
    """Refuses, before any work, a command that reads the embedded stores itself while a
    server owns them (the store is opened lazily, so without this it would fail late)."""
    client = running_service()
    if client is not None:
        client.close()
        raise fail("the service is running and owns the stores: stop it first")
