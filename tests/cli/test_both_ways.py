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


def test_chunks_are_retrieved_without_a_model(way: Way) -> None:
    found = way.run("retrieve", "fire assembly point", "-k", "2", "--mode", "sparse")
    assert found.returncode == 0, found.stderr
    headings = re.findall(r"^\[(\d)\] score [\d.]+  (\S+)  chars \d+-\d+", found.stdout, re.M)
    assert [n for n, _ in headings] == ["1", "2"], found.stdout
    assert "assembly point" in found.stdout.lower()
    nothing = way.run("retrieve", "fire assembly point", "--source-prefix", "/no/such/folder")
    assert nothing.returncode == 0 and "[1]" not in nothing.stdout
    wrong = way.run("retrieve", "fire", "--mode", "fuzzy", local=True)  # refused first
    assert wrong.returncode == 2 and "--mode" in wrong.stderr


def test_folders_are_ingested_pruned_and_synced(way: Way, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "dock.md").write_text("# Dock\n\nDock door 7 takes the frozen goods.\n")
    (folder / "yard.md").write_text("# Yard\n\nThe yard closes at 22:00 on Sundays.\n")

    def counts(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
        return dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)

    first = way.run("ingest", str(folder), "--collection", "notes")
    assert first.returncode == 0, first.stderr
    assert counts(first)["new"] == "2" and counts(first)["chunks written"] != "0"
    again = way.run("ingest", str(folder), "--collection", "notes")
    assert counts(again)["unchanged"] == "2" and counts(again)["new"] == "0"
    listed = way.run("docs", "list").stdout  # stored under their paths, whichever way
    assert f"{(folder / 'dock.md').resolve().as_posix()}\tnotes" in listed, listed

    (folder / "yard.md").unlink()
    pruned = way.run("ingest", str(folder), "--collection", "notes", "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert counts(pruned)["pruned"] == "1"

    (folder / "gate.md").write_text("# Gate\n\nGate B opens at 05:30.\n")
    synced = way.run("sync", str(folder), "--collection", "notes")
    assert synced.returncode == 0, synced.stderr
    assert f"+ {(folder / 'gate.md').resolve().as_posix()}" in synced.stdout
    assert "synced: new 1, changed 0, forgotten 0, unchanged 1, failed 0" in synced.stdout

    bad = way.run("ingest", str(folder), "--collection", "no spaces")
    assert bad.returncode == 2 and "--collection" in bad.stderr


def test_local_commands_work_beside_either(way: Way, tmp_path: Path) -> None:
    made = way.run("keys", "create", "--scope", "read", "--name", "ops", local=True)
    assert made.returncode == 0 and made.stdout.startswith("fv_"), made.stderr
    listed = way.run("keys", "list", local=True)
    row = next(line.split("\t") for line in listed.stdout.splitlines() if "\tops\t" in line)
    revoked = way.run("keys", "revoke", row[0], local=True)
    assert revoked.returncode == 0 and f"revoked key {row[0]} (ops," in revoked.stdout
    unknown = way.run("keys", "revoke", "fv_nosuchkey", local=True)
    assert unknown.returncode == 2 and "no key match" in unknown.stderr
    bad_scope = way.run("keys", "create", "--scope", "root", local=True)
    assert bad_scope.returncode == 2 and "--scope" in bad_scope.stderr

    exported = way.run("contexts", "export", str(tmp_path / "c.jsonl.gz"), local=True)
    assert exported.returncode == 0 and "context(s) written" in exported.stdout
    missing = way.run("contexts", "import", str(tmp_path / "none.jsonl.gz"), local=True)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    questions = way.run("tune", "export", str(tmp_path / "q.jsonl.gz"), local=True)
    assert questions.returncode == 0 and "0 chunk(s) of questions written" in questions.stdout
    schema = way.run("db", "upgrade", local=True)
    assert schema.returncode == 0 and schema.stdout.startswith("database at revision ")
    purged = way.run("conversations", "purge", "--older-than-days", "30", local=True)
    assert purged.returncode == 0 and re.fullmatch(r"deleted \d+ conversations\n", purged.stdout)


def test_what_needs_the_stores_to_itself_says_so(way: Way, tmp_path: Path) -> None:
    backup = way.run("backup", str(tmp_path / "backup"))
    restore = way.run("restore", str(tmp_path / "backup"))
    scored = way.run("eval", "--self")
    trained = way.run("tune", "embedder")
    assert scored.returncode == trained.returncode == restore.returncode == 2
    if way.name == "server":
        assert backup.returncode == 2 and "stop it first" in backup.stderr
        assert "stop it before restoring" in restore.stderr
        assert "stop it first" in scored.stderr and "stop it first" in trained.stderr
        assert not (tmp_path / "backup").exists()
    else:
        assert backup.returncode == 0 and "backup written to" in backup.stdout, backup.stderr
        assert restore.stderr.startswith("error: ")  # not onto a data dir in use
        assert "no synthetic questions" in scored.stderr  # it opened them: nothing to score
        assert "no synthetic questions" in trained.stderr


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

    listing = way.run("models", "list").stdout
    gguf = next(line.split("\t")[5] for line in listing.splitlines() if "smollm2-135m" in line)
    added = way.run("models", "add", "--name", "smol-copy", gguf, local=True)  # SQL alone
    assert added.returncode == 0 and re.search(
        r"registered smol-copy \([0-9a-f]{12}, ", added.stdout
    )
    assert "smol-copy" in way.run("models", "list").stdout
    taken = way.run("models", "add", "--name", "smol-copy", gguf, local=True)
    assert taken.returncode == 2 and "smol-copy" in taken.stderr
    drain = way.run("models", "endpoint", "drain", "smollm2-135m", "http://127.0.0.1:9")
    assert drain.returncode == 2 and "has no endpoint http://127.0.0.1:9" in drain.stderr
