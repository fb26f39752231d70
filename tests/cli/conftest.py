"""The CLI's tests, one module per command group, each run two ways where it can.

``way`` runs a command with the CLI opening the stores itself ("in-process") or with a
running server owning them, found by the address it recorded in the data dir ("server"):
either way the command goes through the one ``Vault`` interface
(app/service/interface.py), so it must behave the same. One data dir per way is shared by
the whole package (building it is the slow part), so no test may rely on what another left:
each adds what it needs and puts back what it changes. ``run_cli`` runs a command on a data
dir of the test's own. Real processes, real stores, the bundled SmolLM2.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.api.server import Server, uvicorn_config
from app.core.embedder import Embedder
from app.main import create_app
from tests.fixtures import REPO, make_service, wait_until


def run_cli(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    """``factvault ARGS`` on the data dir ``data``, in-process (no server)."""
    env = {**os.environ, "FACTVAULT_DATA_DIR": str(data), "COLUMNS": "400"}
    env.pop("FACTVAULT_DATABASE_URL", None)
    env.pop("FACTVAULT_QDRANT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, cwd=REPO, capture_output=True, text=True
    )


@dataclass
class Way:
    name: str
    env: dict[str, str]

    def run(
        self, *args: str, stdin: str | None = None, local: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """``local``: a command that never goes through a server (SQL alone, or the
        stores to itself)."""
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args], env=self.env, cwd=REPO, input=stdin,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        through_server = "using the service at" in done.stderr
        assert through_server == (self.name == "server" and not local), done.stderr
        return done


@pytest.fixture(scope="package", params=["in-process", "server"])
def way(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    minilm: Embedder,
    models_dir: Path,
) -> Iterator[Way]:
    """One data dir per way (the samples, SmolLM2 active, auth off) for every module here."""
    root = tmp_path_factory.mktemp(request.param)
    service = make_service(root, minilm, models_dir)
    data_dir = service.settings.data_dir
    env = {
        **os.environ,
        "FACTVAULT_DATA_DIR": str(data_dir),
        "FACTVAULT_MODELS_PATH": str(models_dir),
        "FACTVAULT_DEFAULT_MODEL": "smollm2-135m",
        "FACTVAULT_AUTH_ENABLED": "false",
        "COLUMNS": "400",
    }
    for name in ("FACTVAULT_DATABASE_URL", "FACTVAULT_QDRANT_URL", "FACTVAULT_PORT"):
        env.pop(name, None)
    if request.param == "in-process":
        service.close()  # the CLI's process opens the stores (one owner at a time)
        yield Way("in-process", env)
        return
    app = create_app(service.settings, service)
    config = uvicorn_config(app, service.settings, host="127.0.0.1", port=0)
    server = Server(config, data_dir)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: (data_dir / "server.json").exists(), 60, "the server to listen")
        yield Way("server", env)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        service.close()
