"""The same CLI tests, once with the CLI opening the stores itself and once with a running
server owning them (found by the address it recorded in the data dir): a command goes
through the one ``Vault`` interface either way (app/service/interface.py), so it must
behave the same. Real processes, real stores, the bundled SmolLM2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.api.server import Server, uvicorn_config
from app.core.embedder import MiniLMEmbedder
from app.main import create_app
from tests.fixtures import REPO, make_service, wait_until

pytestmark = pytest.mark.slow


@dataclass
class Way:
    name: str
    env: dict[str, str]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args], env=self.env, cwd=REPO, input=stdin,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        through_server = "using the service at" in done.stderr
        assert through_server == (self.name == "server"), done.stderr
        return done


@pytest.fixture(scope="module", params=["in-process", "server"])
def way(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    minilm: MiniLMEmbedder,
    models_dir: Path,
) -> Iterator[Way]:
    """One data dir per way, shared by the tests below in their order (each leaves what the
    next expects: a document removed, an index rebuilt, then the model swapped last)."""
    root = tmp_path_factory.mktemp(request.param)
    service = make_service(root, minilm, models_dir)  # the samples, SmolLM2, auth off
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


def test_a_question_and_a_conversation(way: Way) -> None:
    asked = way.run("query", "Where is the fire assembly point?", "--max-tokens", "24")
    assert asked.returncode == 0, asked.stderr
    question, answer, tail = asked.stdout.split("\n\n", 2)
    assert question == "Where is the fire assembly point?" and answer.strip()
    model, *cited = tail.strip().splitlines()
    assert model == "model: smollm2-135m"
    assert all(re.fullmatch(r"\[\d+\] \S+ chars \d+-\d+", c) for c in cited), cited

    talk = way.run("chat", stdin="Where is the fire assembly point?\n/new\n/quit\n")
    assert talk.returncode == 0, talk.stderr
    assert "(new conversation)" in talk.stdout
    assert re.search(r"model: smollm2-135m · prompt tokens [1-9]\d*, \d+ reused", talk.stdout)


def test_documents_are_listed_and_removed(way: Way) -> None:
    listing = way.run("docs", "list")
    assert listing.returncode == 0, listing.stderr
    assert "5 document(s)" in listing.stdout and "employee-handbook.md" in listing.stdout
    handbook = re.search(r"^(\d+)\s.*employee-handbook\.md", listing.stdout, re.M)
    assert handbook, listing.stdout

    removed = way.run("docs", "rm", handbook[1], "999")
    assert removed.returncode == 1, removed.stderr  # one of the two was not there
    assert "removed 1 document(s)" in removed.stdout and "1 id(s) not found: 999" in removed.stderr
    receipt = rf"^{handbook[1]}\t\S*employee-handbook\.md\tsha256 [0-9a-f]{{64}}\tchunks [1-9]"
    assert re.search(receipt, removed.stdout, re.M), removed.stdout
    after = way.run("docs", "list")
    assert "4 document(s)" in after.stdout and "employee-handbook.md" not in after.stdout


def test_a_reindex_and_its_rollback(way: Way) -> None:
    built = way.run("reindex", "--embedder", "minilm")
    assert built.returncode == 0, built.stderr
    line = r"^active index: (\S+) \(\S*MiniLM\S*\), [1-9]\d* chunks, .*previous: (\S+)"
    switched = re.search(line, built.stdout, re.M)
    assert switched, built.stdout
    new, old = switched[1], switched[2]
    assert new != old

    back = way.run("index", "rollback")
    assert back.returncode == 0, back.stderr
    assert f"active index: {old}" in back.stdout and f"replaced: {new}" in back.stdout

    refused = way.run("reindex", "--embedder", "nonesuch")
    assert refused.returncode == 1 and "reindex refused (422)" in refused.stderr


def test_models_are_listed_and_activated(way: Way) -> None:
    def active() -> list[str]:
        listing = way.run("models", "list")
        assert listing.returncode == 0, listing.stderr
        rows = [line.split("\t") for line in listing.stdout.splitlines()[1:]]
        assert {"smollm2-135m", "qwen2.5-coder-0.5b"} <= {r[0] for r in rows}, listing.stdout
        assert all(r[5].endswith(".gguf") for r in rows)  # the path: this caller may see it
        return [r[0] for r in rows if r[1] == "yes"]

    assert active() == ["smollm2-135m"]
    swapped = way.run("models", "activate", "qwen2.5-coder-0.5b")
    assert swapped.returncode == 0, swapped.stderr
    said = "the running service now answers with" if way.name == "server" else "is the active"
    assert said in swapped.stdout
    assert active() == ["qwen2.5-coder-0.5b"]
    unknown = way.run("models", "activate", "no-such-model")
    assert unknown.returncode == 2 and "no-such-model" in unknown.stderr
