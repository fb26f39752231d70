"""`factvault sync --watch` against a running service: the watcher is the real command in
its own process, the service a real uvicorn on loopback that owns the embedded store, and
every change is checked the way a user sees it, by retrieval, polled until it shows
(bounded). How long each change took is printed (pytest -s shows it).

Also the API a sync uses: ``source`` on upload (one file under an absolute path) and
``under`` on the listing, with their refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.core.auth import create_key
from app.service import FactVault
from tests.fixtures import LiveServer

pytestmark = pytest.mark.slow

WAIT_S = 60  # the longest any change may take to show


SERVICE = {"empty": True, "auth_enabled": True}


class Watch:
    """`factvault sync DIR --watch` in a process of its own, its output collected."""

    def __init__(self, folder: Path, port: int, key: str) -> None:
        env = {
            **os.environ, "FACTVAULT_PORT": str(port), "FACTVAULT_API_KEY": key,
            "HF_HUB_OFFLINE": "1",
        }  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "sync", str(folder), "--watch",
             "--debounce", "0.5"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


class Reader:
    """Retrieval as a read key sees it."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.headers = base, {"Authorization": f"Bearer {key}"}

    def chunks(self, question: str) -> list[dict]:
        body = {"question": question, "top_k": 3}
        r = httpx.post(f"{self.base}/v1/retrieve", json=body, headers=self.headers)
        if r.status_code == 409:  # no index yet: nothing was synced so far
            return []
        r.raise_for_status()
        return r.json()["chunks"]

    def sources(self, question: str) -> list[str]:
        return [c["source"] for c in self.chunks(question)]


def until(what: str, check: Callable[[], bool], timings: dict[str, float], watch: Watch):
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > WAIT_S:
            raise AssertionError(f"{what}: not seen within {WAIT_S} s\n" + "\n".join(watch.lines))
        time.sleep(0.2)
    timings[what] = time.monotonic() - started


def test_watcher_follows_create_edit_rename_delete_and_a_restart(
    service: FactVault, tmp_path: Path
) -> None:
    with service.runtime.db.session() as s:
        admin = create_key(s, "watcher", "admin")
        read = create_key(s, "watch-reader", "read")
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "base.md").write_text("The staff car park closes at 22:00 on weekdays.\n")
    timings: dict[str, float] = {}
    with LiveServer(service) as live:
        sources = Reader(live.url, read).sources
        watch = Watch(folder, live.port, admin)
        try:
            until("first pass", lambda: (folder / "base.md").as_posix()
                  in sources("When does the car park close?"), timings, watch)  # fmt: skip

            new = folder / "notes" / "kiln.md"
            new.parent.mkdir()
            new.write_text("The kiln inspector is Oswin Tarrant, who visits every March.\n")
            until("create", lambda: new.as_posix()
                  in sources("Who is the kiln inspector?"), timings, watch)  # fmt: skip

            new.write_text("The kiln inspector is now Perpetua Vossberg, who visits in May.\n")

            def edited() -> bool:
                return any(
                    c["source"] == new.as_posix() and "Vossberg" in c["text"]
                    for c in Reader(live.url, read).chunks("Perpetua Vossberg kiln")
                )

            until("edit", edited, timings, watch)

            renamed = folder / "notes" / "kiln-inspections.md"
            new.rename(renamed)

            def moved() -> bool:
                found = sources("Who is the kiln inspector? Vossberg")
                return renamed.as_posix() in found and new.as_posix() not in found

            until("rename", moved, timings, watch)

            renamed.unlink()
            until("delete", lambda: renamed.as_posix()
                  not in sources("kiln inspector Vossberg"), timings, watch)  # fmt: skip
        finally:
            code = watch.stop()
        assert code == 0, watch.lines
        assert watch.lines[-1] == "stopped"
        marks = [
            line[0] for line in watch.lines if line.endswith(("/kiln.md", "/kiln-inspections.md"))
        ]
        assert marks == ["+", "~", "+", "-", "-"], watch.lines  # rename: new, then old forgotten

        # While no watcher runs: one file added, one deleted. A new watcher catches up.
        later = folder / "later.md"
        later.write_text("The fire drill is on the first Tuesday of each quarter.\n")
        (folder / "base.md").unlink()
        watch = Watch(folder, live.port, admin)
        try:
            until("restart: added", lambda: later.as_posix()
                  in sources("When is the fire drill?"), timings, watch)  # fmt: skip
            until("restart: deleted", lambda: (folder / "base.md").as_posix()
                  not in sources("When does the car park close?"), timings, watch)  # fmt: skip
        finally:
            assert watch.stop() == 0, watch.lines
    print("\nsync --watch, seconds until each change showed in retrieval:")
    for what, seconds in timings.items():
        print(f"  {what:18} {seconds:6.2f}")


def test_the_api_a_sync_uses(service: FactVault, tmp_path: Path) -> None:
    with service.runtime.db.session() as s:
        admin = create_key(s, "sync-admin", "admin")
        limited = create_key(s, "sync-hr", "admin", collections=["hr"])
    f = tmp_path / "policy.md"
    f.write_text("Holiday requests go to the duty manager two weeks ahead.\n")
    source = "/srv/share/hr/policy.md"
    with LiveServer(service) as live:

        def upload(key: str, params: dict, files: list) -> httpx.Response:
            return httpx.post(
                f"{live.url}/v1/documents",
                params=params,
                files=files,
                headers={"Authorization": f"Bearer {key}"},
            )

        one = [("files", ("policy.md", f.read_bytes()))]
        ok = upload(admin, {"source": source, "collection": "ops"}, one)
        assert ok.status_code == 201, ok.text
        doc = ok.json()["documents"][0]
        assert (doc["source"], doc["collection"]) == (source, "ops")
        assert doc["sha256"] and doc["loader_version"] == "load_markdown/1"

        listed = httpx.get(
            f"{live.url}/v1/documents",
            params={"under": "/srv/share"},
            headers={"Authorization": f"Bearer {admin}"},
        ).json()
        assert [d["source"] for d in listed] == [source]

        for params, files, status, says in [
            ({"source": "relative/policy.md"}, one, 422, "source"),
            ({"source": "/srv/../etc/policy.md"}, one, 422, "source"),
            ({"source": source}, one + [("files", ("b.md", b"more"))], 422, "exactly one"),
        ]:
            r = upload(admin, params, files)
            assert r.status_code == status and says in r.text, r.text
        # A key limited to hr may not take over a source stored in ops.
        r = upload(limited, {"source": source, "collection": "hr"}, one)
        assert r.status_code == 403 and "ops" not in r.json()["detail"]  # not whose it is
    assert [d.collection for d in service.list_documents(under="/srv/share")] == ["ops"]
